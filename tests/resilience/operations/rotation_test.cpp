// Changes of keys and policy under load, none of which may fail a request: a KAS key rotation (older
// documents still open, new ones are wrapped to the new key), a signing key rotation (tokens issued before
// still validate, new ones validate at once), and a bad pdp bundle (refused; the last good one keeps
// deciding, so no decision changes and nothing leaks).
#include <pqxx/pqxx>

#include "common/encoding.hpp"
#include "common/fs.hpp"
#include "common/random.hpp"
#include "ops_fixture.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/layout.hpp"

using namespace dive;
using namespace dive::testing;
using namespace dive::testing::ops;
using namespace std::chrono_literals;

namespace {

std::string jwt_kid(const std::string& token) {
  const auto head = base64url_decode(token.substr(0, token.find('.')));
  if (!head) return "";
  const Json h = Json::parse(*head, nullptr, false);
  return h.is_object() ? h.value("kid", "") : "";
}

class Rotation : public Ops {
 protected:
  std::string active_kas_kid() {
    for (const auto& k : cli().run_json({"hub", "kas", "keys", "--json"}))
      if (k.value("active", false)) return k.value("kid", "");
    return "";
  }
  std::string pdp_metrics() { return cli().https_get(port("pdp"), "/metrics").second; }
  Json pdp_status() {
    auto [code, body] = cli().https_get(port("pdp"), "/v1/status");
    const Json j = Json::parse(body, nullptr, false);
    return j.is_discarded() ? Json() : j;
  }
};

}  // namespace

TEST_F(Rotation, AKasKeyRotationUnderLoadFailsNoRequest) {
  auto load = start_load();
  const std::string old_kid = active_kas_kid();
  ASSERT_FALSE(old_kid.empty());
  load->fault_begins();  // the window only measures the recovery: no request may fail at all
  auto r = cli().run({"hub", "kas", "rotate-key"});
  load->fault_ends();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string new_kid = active_kas_kid();
  EXPECT_NE(new_kid, old_kid);
  // A document uploaded now is wrapped to the new key and opens at once.
  const std::string t = api().token("testuser-usa-5", true);
  auto up = api().call("api", "POST", "/api/resources", t,
                       Json{{"title", "after kas rotation " + secure_token(6)},
                            {"content", base64_encode("wrapped to the new key")},
                            {"classification", "SECRET"},
                            {"releasabilityTo", {"USA"}},
                            {"COI", {"FVEY"}},
                            {"coiOperator", "ALL"}});
  ASSERT_EQ(up.status, 201) << up.body.dump();
  const std::string id = up.body["resourceId"];
  EXPECT_EQ(api().call("api", "GET", "/api/resources/" + id + "/ztdf", t).body["keyAccessObjects"][0]["kid"],
            new_kid);
  auto key = api().call("api", "POST", "/api/resources/" + id + "/key", t, Json::object());
  ASSERT_EQ(key.status, 200) << key.body.dump();
  EXPECT_EQ(base64_decode(key.body.value("content", "")).value_or(""), "wrapped to the new key");
  // The load's corpus (wrapped to the old key) and its uploads on both sides of the rotation all open:
  // every key request of the run is checked, and verify_acknowledged_writes() opens every upload.
  finish(*load, "kas-key-rotation", 5s);
  EXPECT_EQ(failures(*load), 0u);
}

TEST_F(Rotation, ASigningKeyRotationUnderLoadFailsNoRequest) {
  auto load = start_load();  // its tokens were issued before the rotation
  const std::string before = api().token("testuser-usa-5", true);
  const std::string old_kid = jwt_kid(before);
  ASSERT_FALSE(old_kid.empty());
  load->fault_begins();  // measures the recovery only: no request may fail
  auto r = cli().run({"hub", "keys", "rotate"});
  load->fault_ends();
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The idp signs with the new key within its poll interval; the api takes a new kid within a second
  // (an early JWKS refresh, docs/IDP.md).
  const auto rotated = std::chrono::steady_clock::now();
  std::string fresh;
  EXPECT_TRUE(wait_until(
      [&] {
        fresh = api().login("testuser-usa-2").value("access_token", "");
        return !fresh.empty() && jwt_kid(fresh) != old_kid;
      },
      5s, 100ms))
      << "still signed with " << old_kid;
  EXPECT_TRUE(
      wait_until([&] { return api().call("api", "GET", "/api/auth/me", fresh).status == 200; }, 2s, 50ms))
      << "a token signed with the new key is refused";
  std::printf("[ops] a token signed with the new key accepted by the api %lld ms after the rotation\n",
              static_cast<long long>(
                  std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - rotated).count()));
  EXPECT_EQ(api().call("api", "GET", "/api/auth/me", before).status, 200) << "a token issued before";
  // Both keys are published.
  auto [code, jwks] =
      cli().https_get(port("idp"), "/realms/dive-v3-broker-usa/protocol/openid-connect/certs");
  EXPECT_EQ(code, 200);
  EXPECT_TRUE(contains(jwks, old_kid) && contains(jwks, jwt_kid(fresh))) << jwks;
  finish(*load, "signing-key-rotation", 5s);
  EXPECT_EQ(failures(*load), 0u);
}

TEST_F(Rotation, ABadPdpBundleIsRefusedAndTheLastGoodOneKeepsDeciding) {
  auto load = start_load();
  pqxx::connection db(orch::instance_db_conninfo(orch::Layout{cli().home()}.instance("USA")));
  std::string good;
  {
    pqxx::nontransaction tx(db);
    good = tx.exec("SELECT revision FROM policy_bundle_active")[0][0].as<std::string>();
  }
  const auto rejected = [&] {
    return metric(pdp_metrics(), "dive_v3_policy_bundle_loads_total{result=\"rejected\"}").value_or(0);
  };
  const double rejected_before = rejected();
  load->fault_begins();  // measures the recovery only: no decision may change, no request may fail
  // 1. Through the CLI: not JSON, and JSON the validation refuses. Nothing is published.
  TempDir d;
  write_file_atomic(d.path() / "truncated.json", "{\"trusted_issuers\": {", 0644);
  write_file_atomic(d.path() / "invalid.json", R"({"trusted_issuers": 42, "clearance_levels": "all"})", 0644);
  for (const char* f : {"truncated.json", "invalid.json"}) {
    auto r = cli().run({"policy", "load", (d.path() / f).string(), "USA"});
    EXPECT_EQ(r.exit_code, 1) << f << ": " << r.output;
    EXPECT_TRUE(contains(r.output, "bundle refused, nothing published")) << r.output;
  }
  {
    pqxx::nontransaction tx(db);
    EXPECT_EQ(tx.exec("SELECT revision FROM policy_bundle_active")[0][0].as<std::string>(), good);
  }
  // 2. Behind the CLI's back, straight into the database: the pdp refuses it and keeps the last good one.
  const std::string bad = "bad-" + secure_token(8);
  {
    pqxx::work tx(db);
    tx.exec_params("INSERT INTO policy_bundles (revision, content, source) VALUES ($1, $2::jsonb, 'test')",
                   bad, R"({"trusted_issuers": 42})");
    tx.exec_params("UPDATE policy_bundle_active SET revision = $1", bad);
    tx.commit();
  }
  EXPECT_TRUE(wait_until([&] { return rejected() > rejected_before; }, 5s, 100ms))
      << "the pdp did not count a refusal";
  Json st = pdp_status();
  EXPECT_TRUE(contains(st.dump(), good)) << "still serving the last good revision: " << st.dump();
  auto ps = cli().run({"policy", "status"});
  EXPECT_TRUE(contains(ps.output, "OUT OF STEP")) << ps.output;
  auto verify = cli().run({"hub", "verify"});
  EXPECT_NE(verify.exit_code, 0) << verify.output;
  EXPECT_TRUE(contains(verify.output, "pdp bundle")) << verify.output;
  // Restored: the good revision active again, the bad one gone.
  {
    pqxx::work tx(db);
    tx.exec_params("UPDATE policy_bundle_active SET revision = $1", good);
    tx.exec_params("DELETE FROM policy_bundles WHERE revision = $1", bad);
    tx.commit();
  }
  load->fault_ends();
  EXPECT_TRUE(wait_until(
      [&] {
        return cli().run({"policy", "status"}).exit_code == 0;
      },
      10s, 200ms))
      << cli().run({"policy", "status"}).output;
  finish(*load, "bad-pdp-bundle", 5s);
  EXPECT_EQ(failures(*load), 0u);
}
