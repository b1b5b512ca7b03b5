// The federation across machines (docs/FEDERATION.md): a hub and two spokes, each in a $DIVE_HOME of its own
// with its own CA, FRA on 127.0.0.2 (the stand-in for another machine). FRA joins with a one-time token,
// GBR registers without one and waits for the operator's approval. Then: refused enrollments (token reused,
// expired, unknown; wrong CA fingerprint), heartbeats, federated search across the three, a USA document
// read and decrypted from the FRA api, a partner going down (partial answers, its breaker, recovery), a
// suspended spoke losing its trust everywhere and getting it back, an IdP asserting another nation, and a
// tampered trust bundle refused while the previous one stays.
#include <gtest/gtest.h>

#include <map>
#include <pqxx/pqxx>
#include <set>

#include "api_client.hpp"
#include "common/encoding.hpp"
#include "common/random.hpp"
#include "dive_cli.hpp"
#include "net/https_client.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/layout.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

std::string conninfo(const DiveCli& cli, const std::string& code) {
  return orch::instance_db_conninfo(orch::Layout{cli.home()}.instance(code));
}

class Federation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    hub_ = new DiveCli({"USA"});
    auto r = hub_->run({"hub", "deploy", "--profile", "test", "--seed", "20"});
    ASSERT_EQ(r.exit_code, 0) << r.output;

    // FRA: another "machine" (127.0.0.2), joined by a one-time token.
    // FRA's users are capped at CONFIDENTIAL wherever they go.
    Json enroll = hub_->run_json(
        {"hub", "enroll", "FRA", "--ttl", "10m", "--max-classification", "CONFIDENTIAL", "--json"});
    fra_token_ = enroll.value("token", "");
    hub_url_ = enroll.value("hubUrl", "");
    hub_fp_ = enroll.value("caFingerprint", "");
    ASSERT_FALSE(fra_token_.empty()) << enroll.dump();
    fra_ = new DiveCli({"FRA"});
    r = fra_->run({"spoke", "deploy", "FRA", "--profile", "test", "--seed", "20", "--host", "127.0.0.2",
                   "--join", fra_token_});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    fra_join_output_ = r.output;

    // GBR: registered without a token: pending until approved.
    gbr_ = new DiveCli({"GBR"});
    r = gbr_->run({"spoke", "deploy", "GBR", "--profile", "test", "--seed", "20", "--hub", hub_url_,
                   "--hub-ca-fingerprint", hub_fp_});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    gbr_join_output_ = r.output;
    gbr_pending_seen_ = spoke_status("GBR") == "pending";
    r = hub_->run({"hub", "spokes", "approve", "GBR", "--reason", "integration test"});
    ASSERT_EQ(r.exit_code, 0) << r.output;

    usa_api_ = new ApiClient(*hub_, "USA");
    fra_api_ = new ApiClient(*fra_, "FRA");
    gbr_api_ = new ApiClient(*gbr_, "GBR");
    // One known document per instance, releasable to the three (seeded ones are random).
    for (auto [api, code] :
         {std::pair{usa_api_, "USA"}, std::pair{fra_api_, "FRA"}, std::pair{gbr_api_, "GBR"}}) {
      const std::string lower = code == std::string("USA")   ? "usa"
                                : code == std::string("FRA") ? "fra"
                                                             : "gbr";
      auto up = api->call("api", "POST", "/api/resources", api->token("testuser-" + lower + "-5", true),
                          Json{{"title", std::string("Coalition brief ") + code},
                               {"content", base64_encode(std::string("Coalition brief from ") + code)},
                               {"classification", "CONFIDENTIAL"},
                               {"releasabilityTo", {"USA", "FRA", "GBR"}}});
      ASSERT_EQ(up.status, 201) << code << ": " << up.body.dump();
      briefs_[code] = up.body.value("resourceId", "");
    }
    auto secret = usa_api_->call("api", "POST", "/api/resources", usa_api_->token("testuser-usa-5", true),
                                 Json{{"title", "Coalition secret USA"},
                                      {"content", base64_encode("Coalition secret from USA")},
                                      {"classification", "SECRET"},
                                      {"releasabilityTo", {"USA", "FRA", "GBR"}}});
    ASSERT_EQ(secret.status, 201) << secret.body.dump();
    usa_secret_ = secret.body.value("resourceId", "");
    // Every instance has applied a bundle with all three members.
    for (auto* cli : {hub_, fra_, gbr_}) {
      bool three = wait_until(
          [&] {
            auto st = cli->run_json({"federation", "status", "--json"});
            return !st.empty() && st[0]["members"].size() == 3;
          },
          20s, 200ms);
      ASSERT_TRUE(three) << cli->run({"federation", "status"}).output;
    }
  }
  static void TearDownTestSuite() {
    delete usa_api_;
    delete fra_api_;
    delete gbr_api_;
    delete gbr_;
    delete fra_;
    delete hub_;
  }

  static std::string spoke_status(const std::string& code) {
    Json j = hub_->run_json({"hub", "spokes", "--json"});
    for (const auto& s : j["spokes"])
      if (s.value("code", "") == code) return s.value("status", "");
    return "";
  }
  static Json spoke_entry(const std::string& code) {
    Json j = hub_->run_json({"hub", "spokes", "--json"});
    for (const auto& s : j["spokes"])
      if (s.value("code", "") == code) return s;
    return Json();
  }

  // A federated search at `api` by `token`: {status, body}.
  static ApiReply search(const ApiClient& api, const std::string& token,
                         const std::string& query = "limit=100") {
    return api.call("api", "GET", "/api/resources/federated-search?" + query, token);
  }
  static Json instance_of(const Json& body, const std::string& code) {
    if (!body.is_object()) return Json::object();
    for (const auto& i : body.value("instances", Json::array()))
      if (i.value("instance", "") == code) return i;
    return Json::object();
  }
  static std::string breaker_state(const ApiClient& api, const std::string& name) {
    auto h = api.call("api", "GET", "/health/detailed");
    return h.body.value("circuitBreakers", Json::object()).value(name, Json::object()).value("state", "");
  }

  static DiveCli *hub_, *fra_, *gbr_;
  static ApiClient *usa_api_, *fra_api_, *gbr_api_;
  static std::string fra_token_, hub_url_, hub_fp_, fra_join_output_, gbr_join_output_;
  static bool gbr_pending_seen_;
  static std::map<std::string, std::string> briefs_;  // code -> its "Coalition brief" document
  static std::string usa_secret_;                     // a SECRET USA document releasable to the three
};
DiveCli* Federation::hub_ = nullptr;
DiveCli* Federation::fra_ = nullptr;
DiveCli* Federation::gbr_ = nullptr;
ApiClient* Federation::usa_api_ = nullptr;
ApiClient* Federation::fra_api_ = nullptr;
ApiClient* Federation::gbr_api_ = nullptr;
std::string Federation::fra_token_, Federation::hub_url_, Federation::hub_fp_, Federation::fra_join_output_,
    Federation::gbr_join_output_;
bool Federation::gbr_pending_seen_ = false;
std::map<std::string, std::string> Federation::briefs_;
std::string Federation::usa_secret_;

// A registration body for `code`, as a spoke would send it (the hub checks its shape before the token).
Json registration(const DiveCli& cli, const std::string& code, const std::string& token) {
  Json cfg = cli.instance_config(code);
  Json reg{{"code", code},
           {"issuer", cfg["issuer"]},
           {"jwksUrl", cfg["issuer"].get<std::string>() + "/protocol/openid-connect/certs"},
           {"apiUrl", cfg["urls"]["api"]},
           {"idpUrl", cfg["urls"]["idp"]},
           {"kasUrl", cfg["urls"]["kas"]},
           {"caPem", read_file(cli.ca_file())}};
  Json body{{"registration", reg}};
  if (!token.empty()) body["enrollmentToken"] = token;
  return body;
}

}  // namespace

TEST_F(Federation, SpokesJoinByTokenAndByApprovalAndTheRegistryShowsThem) {
  EXPECT_NE(fra_join_output_.find("approved"), std::string::npos) << fra_join_output_;
  EXPECT_NE(gbr_join_output_.find("pending"), std::string::npos) << gbr_join_output_;
  EXPECT_TRUE(gbr_pending_seen_) << "GBR registered without a token must wait as pending";
  Json fra = spoke_entry("FRA");
  EXPECT_EQ(fra.value("status", ""), "approved");
  EXPECT_EQ(fra.value("source", ""), "remote");
  EXPECT_EQ(fra.value("host", ""), "127.0.0.2");
  EXPECT_EQ(fra.value("maxClassification", ""), "CONFIDENTIAL");
  EXPECT_EQ(fra.value("apiUrl", ""), fra_->instance_config("FRA")["urls"]["api"]);
  EXPECT_EQ(spoke_status("GBR"), "approved");
  // A spoke in a home without a hub is standalone and names the hub it joined.
  Json fra_cfg = fra_->instance_config("FRA");
  EXPECT_TRUE(fra_cfg.value("standalone", false));
  EXPECT_EQ(fra_cfg["hub"].value("api_url", ""), hub_url_);
  EXPECT_FALSE(hub_->instance_config("USA").value("standalone", true));
  // Every change is audited.
  auto audit = hub_->run({"hub", "spokes", "audit", "GBR"});
  EXPECT_NE(audit.output.find("approve"), std::string::npos) << audit.output;
  EXPECT_NE(audit.output.find("integration test"), std::string::npos) << audit.output;
  // No secret is stored in the clear: the token and the credentials appear only as hashes.
  pqxx::connection c(conninfo(*hub_, "USA"));
  pqxx::read_transaction tx(c);
  const std::string secret = fra_token_.substr(fra_token_.find('.') + 1);
  std::string cred =
      orch::read_secrets(orch::Layout{fra_->home()}.instance("FRA")).value("federation_credential", "");
  ASSERT_FALSE(cred.empty());
  for (const auto& row : tx.exec("SELECT token_hash FROM federation_enrollment_tokens"))
    EXPECT_NE(row[0].as<std::string>(), secret);
  auto stored = tx.exec_params("SELECT credential_hash FROM federation_spokes WHERE code = 'FRA'");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0][0].as<std::string>(), sha256_hex(cred));
}

TEST_F(Federation, ReusedExpiredUnknownTokensAndAWrongCaFingerprintAreRefused) {
  // FRA's token was used by its join.
  auto secret_of = [](const std::string& token) {
    auto raw = base64url_decode(token.substr(token.find('.') + 1));
    return Json::parse(raw.value_or("{}")).value("s", "");
  };
  auto reused = usa_api_->call("api", "POST", "/api/federation/register", "",
                               registration(*fra_, "FRA", secret_of(fra_token_)));
  EXPECT_EQ(reused.status, 403) << reused.body.dump();
  EXPECT_EQ(reused.body.value("reason", ""), "token_used");

  auto unknown = usa_api_->call("api", "POST", "/api/federation/register", "",
                                registration(*fra_, "FRA", secure_token(32)));
  EXPECT_EQ(unknown.status, 403);
  EXPECT_EQ(unknown.body.value("reason", ""), "token_unknown");

  // A token that expires in a second; used after its expiry.
  Json e = hub_->run_json({"hub", "enroll", "DEU", "--ttl", "1s", "--json"});
  ASSERT_TRUE(e.contains("token")) << e.dump();
  const auto issued = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return std::chrono::steady_clock::now() - issued > 1500ms; }, 5s));
  Json deu = registration(*fra_, "FRA", secret_of(e["token"]));
  deu["registration"]["code"] = "DEU";
  auto expired = usa_api_->call("api", "POST", "/api/federation/register", "", deu);
  EXPECT_EQ(expired.status, 403) << expired.body.dump();
  EXPECT_EQ(expired.body.value("reason", ""), "token_expired");
  EXPECT_EQ(spoke_status("DEU"), "") << "a refused registration leaves no spoke behind";

  // Bad input: a clear 400, nothing stored.
  auto bad =
      usa_api_->call("api", "POST", "/api/federation/register", "", Json{{"registration", {{"code", "x"}}}});
  EXPECT_EQ(bad.status, 400);

  // A spoke that pins another CA refuses the hub before it sets anything up.
  DiveCli other({"DEU"});
  std::string wrong(64, '0');
  auto r = other.run(
      {"spoke", "deploy", "DEU", "--profile", "test", "--hub", hub_url_, "--hub-ca-fingerprint", wrong});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("fingerprint"), std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(other.home() / "instances" / "deu" / "instance.json")) << r.output;
}

TEST_F(Federation, SpokesBeatAndTheHubSeesThemFresh) {
  Json before = spoke_entry("FRA");
  ASSERT_TRUE(before["lastHeartbeatMs"].is_number()) << before.dump();
  EXPECT_TRUE(wait_until(
      [&] {
        Json now = spoke_entry("FRA");
        return now["lastHeartbeatMs"].is_number() &&
               now["lastHeartbeatMs"].get<int64_t>() > before["lastHeartbeatMs"].get<int64_t>();
      },
      10s, 200ms));
  EXPECT_FALSE(spoke_entry("FRA").value("stale", true));
  EXPECT_GT(spoke_entry("GBR").value("bundleRevision", 0), 0);
  auto metrics = usa_api_->call("api", "GET", "/metrics");
  // (the body is text, not JSON: fetched raw)
  auto [st, text] = hub_->https_get(hub_->instance_config("USA")["ports"]["api"], "/metrics");
  ASSERT_EQ(st, 200);
  EXPECT_NE(text.find("dive_v3_federation_spoke_up{spoke=\"FRA\"} 1"), std::string::npos);
  EXPECT_NE(text.find("dive_v3_federation_last_heartbeat_timestamp_seconds{spoke=\"GBR\"}"),
            std::string::npos);
  (void)metrics;
}

TEST_F(Federation, AFrenchUserFindsDocumentsOfAllThreeAndDecryptsAnAmericanOneFromTheFrenchApi) {
  const std::string token = fra_api_->token("testuser-fra-5", true);
  ASSERT_FALSE(token.empty());
  auto r = search(*fra_api_, token, "query=Coalition%20brief&limit=100");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_FALSE(r.body.value("partial", true)) << r.body.dump();
  std::set<std::string> found;
  for (const auto& d : r.body["resources"]) {
    found.insert(d.value("resourceId", ""));
    EXPECT_EQ(d.value("resourceId", "").substr(4, 3), d.value("originInstance", "")) << d.dump();
  }
  for (const char* code : {"USA", "FRA", "GBR"}) {
    EXPECT_EQ(instance_of(r.body, code).value("status", ""), "ok")
        << code << ": " << r.body["instances"].dump();
    EXPECT_TRUE(found.count(briefs_[code])) << code << "'s brief missing: " << r.body.dump();
  }
  // Ranked: the titles that match the query come first.
  ASSERT_GE(r.body["resources"].size(), 3u);
  for (size_t i = 0; i < 3; ++i)
    EXPECT_EQ(r.body["resources"][i].value("title", "").rfind("Coalition brief", 0), 0u) << r.body.dump();
  // Read the USA brief at the FRA api: answered by its origin, the key released by the USA KAS.
  const std::string usa_doc = briefs_["USA"];
  ASSERT_EQ(usa_doc.rfind("doc-USA-", 0), 0u);
  auto read = fra_api_->call("api", "GET", "/api/resources/" + usa_doc, token);
  EXPECT_EQ(read.status, 200) << read.body.dump();
  EXPECT_EQ(read.body.value("resourceId", ""), usa_doc);
  auto key = fra_api_->call("api", "POST", "/api/resources/" + usa_doc + "/key", token, Json::object());
  ASSERT_EQ(key.status, 200) << key.body.dump();
  auto plain = base64_decode(key.body.value("content", ""));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(*plain, "Coalition brief from USA");
  EXPECT_EQ(key.body.value("kid", "").rfind("kas-", 0), 0u);
  // A document of an instance outside the federation: not found, named.
  auto stranger = fra_api_->call("api", "GET", "/api/resources/doc-ZZZ-1", token);
  EXPECT_EQ(stranger.status, 404);
  // Bad input is the caller's error, not a partial answer.
  EXPECT_EQ(search(*fra_api_, token, "limit=0").status, 400);
  EXPECT_EQ(search(*fra_api_, token, "classification=COSMIC").status, 400);
}

TEST_F(Federation, ASpokesClassificationCapHoldsOnEveryInstance) {
  // A British user reads the SECRET USA document from the GBR api; a French TOP_SECRET user (FRA is capped
  // at CONFIDENTIAL) is refused it, and finds nothing above CONFIDENTIAL anywhere.
  const std::string gbr = gbr_api_->token("testuser-gbr-5", true);
  auto read = gbr_api_->call("api", "GET", "/api/resources/" + usa_secret_, gbr);
  EXPECT_EQ(read.status, 200) << read.body.dump();
  const std::string fra = fra_api_->token("testuser-fra-5", true);
  auto refused = fra_api_->call("api", "GET", "/api/resources/" + usa_secret_, fra);
  EXPECT_EQ(refused.status, 403) << refused.body.dump();
  EXPECT_NE(refused.body.dump().find("classification cap is CONFIDENTIAL"), std::string::npos)
      << refused.body.dump();
  auto r = search(*fra_api_, fra);
  ASSERT_EQ(r.status, 200);
  ASSERT_FALSE(r.body["resources"].empty());
  for (const auto& d : r.body["resources"]) {
    const std::string cls = d.value("classification", "");
    EXPECT_TRUE(cls == "UNCLASSIFIED" || cls == "RESTRICTED" || cls == "CONFIDENTIAL") << d.dump();
  }
}

TEST_F(Federation, ALogoutOnOneMachineRevokesTheUsersTokensOnTheOthers) {
  // FRA and GBR each have a revocation store of their own: revocations travel through the hub.
  const std::string fra = fra_api_->login("testuser-fra-2").value("access_token", "");
  const std::string gbr = gbr_api_->login("testuser-gbr-2").value("access_token", "");
  ASSERT_FALSE(fra.empty());
  ASSERT_FALSE(gbr.empty());
  for (const auto* api : {usa_api_, fra_api_, gbr_api_}) {
    ASSERT_EQ(api->call("api", "GET", "/api/auth/me", fra).status, 200);
    ASSERT_EQ(api->call("api", "GET", "/api/auth/me", gbr).status, 200);
  }
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(fra_api_->call("api", "POST", "/api/auth/logout", fra).status, 200);
  ASSERT_EQ(gbr_api_->call("api", "POST", "/api/auth/logout", gbr).status, 200);
  bool everywhere = wait_until(
      [&] {
        for (const auto* api : {usa_api_, fra_api_, gbr_api_})
          if (api->call("api", "GET", "/api/auth/me", fra).status != 401 ||
              api->call("api", "GET", "/api/auth/me", gbr).status != 401)
            return false;
        return true;
      },
      20s, 100ms);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ TIMING ] logouts at FRA and GBR refused on all three instances after %lld ms\n",
              static_cast<long long>(ms));
  EXPECT_TRUE(everywhere) << "USA " << usa_api_->call("api", "GET", "/api/auth/me", fra).status << "/"
                          << usa_api_->call("api", "GET", "/api/auth/me", gbr).status << ", GBR "
                          << gbr_api_->call("api", "GET", "/api/auth/me", fra).status << ", FRA "
                          << fra_api_->call("api", "GET", "/api/auth/me", gbr).status;
  // A spoke cannot relay a revocation it did not make (another nation's user).
  Json cred = orch::read_secrets(orch::Layout{fra_->home()}.instance("FRA"));
  net::ClientConfig cc;
  cc.ca_file = hub_->ca_file().string();
  net::HttpsClient http(cc);
  net::ClientRequest req;
  req.method = "POST";
  req.url = hub_url_ + "/api/federation/revocations";
  req.headers.set("Authorization", "DiveSpoke FRA." + cred.value("federation_credential", ""));
  req.headers.set("Content-Type", "application/json");
  req.body = Json{{"events",
                   {{{"type", "user"},
                     {"uniqueID", "testuser-usa-1"},
                     {"at", 1},
                     {"revokedAt", 1},
                     {"instance", "USA"}}}}}
                 .dump();
  EXPECT_EQ(http.send(req).status, 403);
  req.headers.set("Authorization", "DiveSpoke FRA.wrong");
  EXPECT_EQ(http.send(req).status, 401);
}

TEST_F(Federation, ADocumentWrappedForSeveralKasesOpensThroughAPartnerKasWhenItsOwnIsDown) {
  const std::string token = usa_api_->token("testuser-usa-5", true);
  auto up = usa_api_->call("api", "POST", "/api/resources", token,
                           Json{{"title", "Coalition brief multi-KAS"},
                                {"content", base64_encode("wrapped for USA and GBR")},
                                {"classification", "CONFIDENTIAL"},
                                {"releasabilityTo", {"USA", "FRA", "GBR"}},
                                {"kasInstances", {"GBR"}}});
  ASSERT_EQ(up.status, 201) << up.body.dump();
  const std::string id = up.body.value("resourceId", "");
  EXPECT_EQ(usa_api_->call("api", "GET", "/api/resources/" + id, token).body.value("kaoCount", 0), 2);
  EXPECT_EQ(usa_api_
                ->call("api", "POST", "/api/resources", token,
                       Json{{"title", "x"},
                            {"content", base64_encode("x")},
                            {"classification", "UNCLASSIFIED"},
                            {"kasInstances", {"ZZZ"}}})
                .status,
            400);
  auto own = usa_api_->call("api", "POST", "/api/resources/" + id + "/key", token, Json::object());
  ASSERT_EQ(own.status, 200) << own.body.dump();
  const std::string usa_kid = own.body.value("kid", "");

  ASSERT_EQ(hub_->run({"hub", "stop", "kas"}).exit_code, 0);
  auto via_gbr = usa_api_->call("api", "POST", "/api/resources/" + id + "/key", token, Json::object());
  EXPECT_EQ(via_gbr.status, 200) << via_gbr.body.dump();
  EXPECT_NE(via_gbr.body.value("kid", ""), usa_kid) << "released by GBR's KAS";
  EXPECT_EQ(base64_decode(via_gbr.body.value("content", "")).value_or(""), "wrapped for USA and GBR");
  // A document wrapped for USA's KAS only has no other KAS to ask.
  EXPECT_EQ(usa_api_->call("api", "POST", "/api/resources/" + briefs_["USA"] + "/key", token, Json::object())
                .status,
            503);
  ASSERT_EQ(hub_->run({"hub", "start", "kas"}).exit_code, 0);
  EXPECT_TRUE(wait_until(
      [&] {
        return usa_api_
                   ->call("api", "POST", "/api/resources/" + briefs_["USA"] + "/key", token, Json::object())
                   .status == 200;
      },
      30s, 250ms));
}

TEST_F(Federation, AnIdpAssertingAnotherNationIsRefusedEverywhere) {
  {
    pqxx::connection c(conninfo(*fra_, "FRA"));
    pqxx::work tx(c);
    tx.exec("UPDATE idp_users SET country = 'USA' WHERE username = 'testuser-fra-1'");
    tx.commit();
  }
  Json login = fra_api_->login("testuser-fra-1");
  {
    pqxx::connection c(conninfo(*fra_, "FRA"));
    pqxx::work tx(c);
    tx.exec("UPDATE idp_users SET country = 'FRA' WHERE username = 'testuser-fra-1'");
    tx.commit();
  }
  const std::string forged = login.value("access_token", "");
  ASSERT_FALSE(forged.empty()) << login.dump();
  EXPECT_EQ(usa_api_->call("api", "GET", "/api/auth/me", forged).status, 401);
  EXPECT_EQ(gbr_api_->call("api", "GET", "/api/auth/me", forged).status, 401);
  EXPECT_EQ(fra_api_->call("api", "GET", "/api/auth/me", forged).status, 401);
  // The same user as a French national is accepted by every instance.
  const std::string honest = fra_api_->login("testuser-fra-1").value("access_token", "");
  EXPECT_EQ(usa_api_->call("api", "GET", "/api/auth/me", honest).status, 200);
  EXPECT_EQ(gbr_api_->call("api", "GET", "/api/auth/me", honest).status, 200);
}

TEST_F(Federation, APartnerDownGivesPartialResultsWithinTheDeadlineThenRecovers) {
  const std::string token = fra_api_->token("testuser-fra-5", true);
  ASSERT_EQ(gbr_->run({"spoke", "down", "GBR"}).exit_code, 0);
  // Every answer is partial, in time; after a few, FRA stops calling GBR: its breaker for GBR opens, or
  // (when GBR's missed heartbeats make it stale at the hub first) the hub tells FRA not to call it.
  bool stale = false;
  bool open = wait_until(
      [&] {
        auto t0 = std::chrono::steady_clock::now();
        auto r = search(*fra_api_, token);
        auto ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
        EXPECT_EQ(r.status, 200);
        if (!r.body.is_object()) return false;
        EXPECT_TRUE(r.body.value("partial", false)) << r.body.dump();
        EXPECT_NE(instance_of(r.body, "GBR").value("status", "ok"), "ok");
        EXPECT_EQ(instance_of(r.body, "USA").value("status", ""), "ok");
        EXPECT_LT(ms, 3000ms + 1000ms) << "the federated search deadline is 3 s";
        stale = instance_of(r.body, "GBR").value("error", "").starts_with("stale");
        return stale || breaker_state(*fra_api_, "partner:GBR") == "OPEN";
      },
      30s, 100ms);
  EXPECT_TRUE(open) << fra_api_->call("api", "GET", "/health/detailed").body.dump();
  std::printf("[ INFO ] FRA stopped calling GBR because %s\n",
              stale ? "the hub marked it stale" : "its breaker opened");
  ASSERT_EQ(gbr_->run({"spoke", "up", "GBR"}).exit_code, 0);
  bool recovered = wait_until(
      [&] {
        auto r = search(*fra_api_, token);
        return r.status == 200 && !r.body.value("partial", true);
      },
      30s, 250ms);
  EXPECT_TRUE(recovered) << search(*fra_api_, token).body.dump();
}

TEST_F(Federation, ASuspendedSpokeLosesItsTrustEverywhereWithinSecondsAndGetsItBack) {
  const std::string fra_token = fra_api_->token("testuser-fra-5", true);
  const std::string gbr_token = gbr_api_->token("testuser-gbr-5", true);
  ASSERT_EQ(usa_api_->call("api", "GET", "/api/auth/me", fra_token).status, 200);
  ASSERT_EQ(gbr_api_->call("api", "GET", "/api/auth/me", fra_token).status, 200);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(hub_->run({"hub", "spokes", "suspend", "FRA", "--reason", "test"}).exit_code, 0);
  bool refused = wait_until(
      [&] {
        return usa_api_->call("api", "GET", "/api/auth/me", fra_token).status == 401 &&
               gbr_api_->call("api", "GET", "/api/auth/me", fra_token).status == 401;
      },
      3s, 50ms);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ TIMING ] FRA suspended -> its tokens refused at USA and GBR after %lld ms\n",
              static_cast<long long>(ms));
  EXPECT_TRUE(refused) << "FRA tokens still accepted " << ms << " ms after the suspension";
  // FRA's documents are gone from a GBR user's search, which names FRA as suspended.
  bool gone = wait_until(
      [&] {
        auto r = search(*gbr_api_, gbr_token);
        if (!r.body.is_object()) return false;
        for (const auto& d : r.body.value("resources", Json::array()))
          if (d.value("originInstance", "") == "FRA") return false;
        return instance_of(r.body, "FRA").value("status", "") == "suspended";
      },
      10s, 200ms);
  EXPECT_TRUE(gone) << search(*gbr_api_, gbr_token).body.dump();

  ASSERT_EQ(hub_->run({"hub", "spokes", "reinstate", "FRA"}).exit_code, 0);
  EXPECT_TRUE(wait_until(
      [&] {
        return usa_api_->call("api", "GET", "/api/auth/me", fra_token).status == 200 &&
               gbr_api_->call("api", "GET", "/api/auth/me", fra_token).status == 200;
      },
      10s, 100ms))
      << "USA " << usa_api_->call("api", "GET", "/api/auth/me", fra_token).status << ", GBR "
      << gbr_api_->call("api", "GET", "/api/auth/me", fra_token).status << "\n"
      << hub_->run({"federation", "status"}).output << gbr_->run({"federation", "status"}).output;
  EXPECT_TRUE(wait_until(
      [&] {
        auto r = search(*gbr_api_, gbr_token);
        return r.body.is_object() && instance_of(r.body, "FRA").value("status", "") == "ok" &&
               !r.body.value("partial", true);
      },
      10s, 200ms))
      << search(*gbr_api_, gbr_token).body.dump();
}

TEST_F(Federation, ATamperedTrustBundleIsRefusedAndThePreviousOneKept) {
  auto applied = [](const DiveCli& cli) {
    auto st = cli.run_json({"federation", "status", "--json"});
    return st.empty() ? Json() : st[0];
  };
  const int64_t before = applied(*fra_).value("bundleRevision", int64_t{0});
  ASSERT_GT(before, 0);
  int64_t forged_rev = 0;
  {
    // The latest bundle with its payload changed (GBR gets the top classification cap lowered), signature
    // kept.
    pqxx::connection c(conninfo(*hub_, "USA"));
    pqxx::work tx(c);
    auto row = tx.exec("SELECT revision, jws FROM federation_bundles ORDER BY revision DESC LIMIT 1")[0];
    forged_rev = row[0].as<int64_t>() + 1;
    std::string jws = row[1].as<std::string>();
    auto a = jws.find('.'), b = jws.find('.', a + 1);
    Json payload = Json::parse(base64url_decode(jws.substr(a + 1, b - a - 1)).value());
    payload["revision"] = forged_rev;
    payload["members"].push_back(payload["members"][0]);
    payload["members"].back()["code"] = "EVL";
    payload["members"].back()["issuer"] = "https://evil.example/realms/x";
    std::string forged = jws.substr(0, a + 1) + base64url_encode(payload.dump()) + jws.substr(b);
    tx.exec_params("INSERT INTO federation_bundles (revision, jws, content_sha256) VALUES ($1, $2, 'forged')",
                   forged_rev, forged);
    tx.commit();
  }
  bool refused = wait_until(
      [&] {
        auto errors = applied(*fra_).value("errors", Json::object());
        return errors.contains("bundle") &&
               errors["bundle"].get<std::string>().find("refused") != std::string::npos;
      },
      10s, 200ms);
  EXPECT_TRUE(refused) << applied(*fra_).dump();
  EXPECT_EQ(applied(*fra_).value("bundleRevision", int64_t{0}), before);
  for (const auto& m : applied(*fra_)["members"]) EXPECT_NE(m.value("code", ""), "EVL");
  // Removed again: the next real revision is accepted.
  {
    pqxx::connection c(conninfo(*hub_, "USA"));
    pqxx::work tx(c);
    tx.exec_params("DELETE FROM federation_bundles WHERE revision = $1", forged_rev);
    tx.commit();
  }
  ASSERT_EQ(hub_->run({"hub", "spokes", "suspend", "GBR"}).exit_code, 0);
  ASSERT_EQ(hub_->run({"hub", "spokes", "reinstate", "GBR"}).exit_code, 0);
  EXPECT_TRUE(
      wait_until([&] { return applied(*fra_).value("bundleRevision", int64_t{0}) > before; }, 10s, 200ms))
      << applied(*fra_).dump();
  EXPECT_TRUE(wait_until([&] { return !applied(*fra_).value("errors", Json::object()).contains("bundle"); },
                         10s, 200ms));
}
