// The audit trail of a deployed hub and a spoke beside it (docs/AUDIT.md), as an operator and an accreditor
// use it: a read, a refused read, a key release, a refused key request, a login, a failed login, a lockout
// and a spoke suspension each appear in `./dive audit --json` with who, what, from where, the outcome, the
// reason and the request id; GET /api/admin/audit answers administrators only; an edited and a deleted
// record are named by `./dive audit verify`; and nothing secret is in any record.
#include <gtest/gtest.h>

#include <fstream>
#include <pqxx/pqxx>
#include <regex>
#include <set>

#include "api_client.hpp"
#include "common/encoding.hpp"
#include "common/strings.hpp"
#include "dive_cli.hpp"
#include "identity/idp/user_authenticator.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/layout.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

class Audit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cli_ = new DiveCli({"USA", "TST"});
    auto r = cli_->run({"hub", "deploy", "--profile", "test", "--seed", "10"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = cli_->run({"spoke", "deploy", "TST", "--profile", "test", "--seed", "5"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    api_ = new ApiClient(*cli_, "USA");
    // A SECRET document only USA may read: testuser-usa-5 (TOP_SECRET) may, testuser-usa-1 may not.
    auto up = api_->call("api", "POST", "/api/resources", api_->token("testuser-usa-5", true),
                         Json{{"title", "Audit test brief"},
                              {"content", base64_encode("the plaintext that must never be audited")},
                              {"classification", "SECRET"},
                              {"releasabilityTo", {"USA"}}});
    ASSERT_EQ(up.status, 201) << up.body.dump();
    doc_ = up.body.value("resourceId", "");
  }
  static void TearDownTestSuite() {
    delete api_;
    delete cli_;
  }

  // `./dive audit --json` with these filters (the hub unless --instance).
  static Json records(std::vector<std::string> filters) {
    std::vector<std::string> args{"audit", "--json", "--limit", "1000"};
    args.insert(args.end(), filters.begin(), filters.end());
    return cli_->run_json(args);
  }
  // Waits (bounded) for a record matching the filters and `pred`; returns it, or null.
  static Json await_record(const std::vector<std::string>& filters,
                           const std::function<bool(const Json&)>& pred) {
    Json found;
    wait_until(
        [&] {
          for (const auto& r : records(filters))
            if (pred(r)) {
              found = r;
              return true;
            }
          return false;
        },
        15s, 200ms);
    return found;
  }
  static void expect_request_fields(const Json& r) {
    EXPECT_EQ(r.value("sourceIp", ""), "127.0.0.1") << r.dump();
    EXPECT_FALSE(r.value("requestId", "").empty()) << r.dump();
    EXPECT_EQ(r.value("hash", "").size(), 64u) << r.dump();
    EXPECT_EQ(r.value("prevHash", "").size(), 64u) << r.dump();
    EXPECT_TRUE(r["details"].is_object()) << r.dump();
  }
  static std::string issuer() { return api_->config().value("issuer", ""); }
  static std::string password_grant(const std::string& user, const std::string& password,
                                    const std::string& otp = "") {
    std::vector<std::pair<std::string, std::string>> form{
        {"grant_type", "password"}, {"client_id", "dive-cli"}, {"username", user}, {"password", password}};
    if (!otp.empty()) form.emplace_back("totp", otp);
    auto r = api_->oidc_post("token", form);
    return r.status == 200 ? r.body.value("access_token", "") : "";
  }

  static DiveCli* cli_;
  static ApiClient* api_;
  static std::string doc_;
  static std::set<std::string> otps_;  // every one-time code this test sent
};
DiveCli* Audit::cli_ = nullptr;
ApiClient* Audit::api_ = nullptr;
std::string Audit::doc_;
std::set<std::string> Audit::otps_;

}  // namespace

TEST_F(Audit, ADeployIsOnRecordWithTheOperator) {
  Json r = await_record({"--type", "admin.deploy"},
                        [](const Json& r) { return r.value("resource", "") == "USA"; });
  ASSERT_FALSE(r.is_null());
  EXPECT_EQ(r.value("outcome", ""), "success");
  EXPECT_EQ(r.value("service", ""), "cli");
  EXPECT_NE(r.value("actor", "").find('@'), std::string::npos) << "user@host: " << r.dump();
}

TEST_F(Audit, ALoginAndAFailedLogin) {
  const std::string pw = api_->secrets().value("test_user_password", "");
  const std::string otp = api_->otp("testuser-usa-2");
  otps_.insert(otp);
  ASSERT_FALSE(password_grant("testuser-usa-2", pw, otp).empty());
  Json ok =
      await_record({"--user", "testuser-usa-2", "--type", "auth.login"}, [](const Json&) { return true; });
  ASSERT_FALSE(ok.is_null());
  EXPECT_EQ(ok.value("outcome", ""), "success");
  EXPECT_EQ(ok.value("service", ""), "idp");
  EXPECT_EQ(ok.value("actorIssuer", ""), issuer());
  EXPECT_EQ(ok["details"]["amr"], Json::array({"pwd", "otp"}));
  expect_request_fields(ok);
  Json issued =
      await_record({"--user", "testuser-usa-2", "--type", "token.issued"}, [](const Json&) { return true; });
  ASSERT_FALSE(issued.is_null());
  EXPECT_EQ(issued["details"].value("grant", ""), "password");
  EXPECT_FALSE(issued["details"].value("jti", "").empty());

  EXPECT_TRUE(password_grant("testuser-usa-3", pw + "-wrong").empty());
  Json failed = await_record({"--user", "testuser-usa-3", "--type", "auth.login_failed"},
                             [](const Json&) { return true; });
  ASSERT_FALSE(failed.is_null());
  EXPECT_EQ(failed.value("outcome", ""), "failure");
  EXPECT_EQ(failed.value("reason", ""), "wrong password for testuser-usa-3");
  expect_request_fields(failed);

  // A password typed into the username field: the record names it only by a label of its hash.
  const std::string typed = "tr0ub4dor.3-typed-as-a-username";
  EXPECT_TRUE(password_grant(typed, pw).empty());
  const std::string label = identity::idp::unknown_user_label(typed);
  EXPECT_EQ(label.rfind("unknown user #", 0), 0u) << label;
  Json unknown =
      await_record({"--user", label, "--type", "auth.login_failed"}, [](const Json&) { return true; });
  ASSERT_FALSE(unknown.is_null());
  EXPECT_EQ(unknown.value("reason", ""), label);
  EXPECT_EQ(unknown.dump().find(typed), std::string::npos) << unknown.dump();
  auto all = cli_->run({"audit", "--type", "auth.login_failed", "--json"});
  EXPECT_EQ(all.output.find(typed), std::string::npos) << "the typed text in no record";
  EXPECT_EQ(read_file(cli_->home() / "instances" / "usa" / "logs" / "idp.log").find(typed), std::string::npos)
      << "nor in the idp's log";
}

TEST_F(Audit, ALockout) {
  const std::string pw = api_->secrets().value("test_user_password", "");
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(password_grant("testuser-usa-4", pw + "-guess" + std::to_string(i)).empty());
  Json lock =
      await_record({"--user", "testuser-usa-4", "--type", "auth.lockout"}, [](const Json&) { return true; });
  ASSERT_FALSE(lock.is_null());
  EXPECT_EQ(lock.value("outcome", ""), "deny");
  EXPECT_NE(lock.value("reason", "").find("5 consecutive failed sign-ins"), std::string::npos) << lock.dump();
  expect_request_fields(lock);
  // The right password now: refused, and on the record as a failure of a locked account.
  const std::string otp = api_->otp("testuser-usa-4");
  otps_.insert(otp);
  EXPECT_TRUE(password_grant("testuser-usa-4", pw, otp).empty());
  Json locked = await_record({"--user", "testuser-usa-4", "--type", "auth.login_failed"}, [](const Json& r) {
    return r.value("reason", "").find("is locked") != std::string::npos;
  });
  EXPECT_FALSE(locked.is_null());
}

TEST_F(Audit, AReadAndARefusedRead) {
  auto ok = api_->call("api", "GET", "/api/resources/" + doc_, api_->token("testuser-usa-5", true));
  ASSERT_EQ(ok.status, 200) << ok.body.dump();
  Json read = await_record({"--resource", doc_, "--type", "access.read", "--user", "testuser-usa-5"},
                           [](const Json&) { return true; });
  ASSERT_FALSE(read.is_null());
  EXPECT_EQ(read.value("outcome", ""), "allow");
  EXPECT_EQ(read.value("reason", ""), ok.body["decision"].value("reason", ""));
  EXPECT_EQ(read.value("service", ""), "api");
  EXPECT_EQ(read.value("actorIssuer", ""), issuer());
  EXPECT_EQ(read["details"].value("classification", ""), "SECRET");
  expect_request_fields(read);

  auto refused = api_->call("api", "GET", "/api/resources/" + doc_, api_->token("testuser-usa-1", true));
  ASSERT_EQ(refused.status, 403) << refused.body.dump();
  const std::string rid = refused.body.value("requestId", "");
  Json deny = await_record({"--resource", doc_, "--outcome", "deny", "--user", "testuser-usa-1"},
                           [&](const Json& r) { return r.value("requestId", "") == rid; });
  ASSERT_FALSE(deny.is_null()) << "the record carries the request id the caller was given";
  EXPECT_EQ(deny.value("type", ""), "access.read");
  EXPECT_EQ(deny.value("reason", ""), refused.body.value("reason", ""));
  expect_request_fields(deny);
  // The pdp's decision is in the same chain, under the same request id.
  Json decision = await_record({"--type", "policy.decision", "--outcome", "deny"},
                               [&](const Json& r) { return r.value("requestId", "") == rid; });
  ASSERT_FALSE(decision.is_null());
  EXPECT_EQ(decision.value("service", ""), "pdp");
  EXPECT_EQ(decision.value("reason", ""), refused.body.value("reason", ""));
}

TEST_F(Audit, AListIsOneRecordPerPageWithCounts) {
  auto page = api_->call("api", "GET", "/api/resources?limit=5", api_->token("testuser-usa-5", true));
  ASSERT_EQ(page.status, 200);
  Json list = await_record({"--type", "access.list", "--user", "testuser-usa-5"},
                           [&](const Json& r) { return r["details"].value("limit", 0) == 5; });
  ASSERT_FALSE(list.is_null());
  EXPECT_EQ(list["details"].value("returned", -1), page.body.value("count", -2));
  EXPECT_GE(list["details"].value("examined", 0), list["details"].value("returned", 0));
}

TEST_F(Audit, AKeyReleaseAndARefusedKeyRequest) {
  const std::string t5 = api_->token("testuser-usa-5", true);
  auto released = api_->call("api", "POST", "/api/resources/" + doc_ + "/key", t5);
  ASSERT_EQ(released.status, 200) << released.body.dump();
  Json pep = await_record({"--resource", doc_, "--type", "access.key_request"},
                          [](const Json& r) { return r.value("outcome", "") == "allow"; });
  ASSERT_FALSE(pep.is_null());
  Json kas =
      await_record({"--resource", doc_, "--type", "kas.key_request", "--outcome", "allow"},
                   [&](const Json& r) { return r.value("requestId", "") == pep.value("requestId", ""); });
  ASSERT_FALSE(kas.is_null()) << "the kas's record shares the api's request id";
  EXPECT_EQ(kas.value("actor", ""), "testuser-usa-5");
  EXPECT_EQ(kas.value("service", ""), "kas");
  EXPECT_EQ(kas["details"].value("decision", ""), "granted");
  expect_request_fields(kas);

  // Straight to the kas with a genuine object, as a user the policy refuses.
  Json z = api_->call("api", "GET", "/api/resources/" + doc_ + "/ztdf", t5).body;
  Json genuine{{"policy", z["policy"]}, {"kao", z["keyAccessObjects"][0]}};
  auto refused = api_->call("kas", "POST", "/request-key", api_->token("testuser-usa-1", true), genuine);
  ASSERT_EQ(refused.status, 403) << refused.body.dump();
  Json deny = await_record(
      {"--resource", doc_, "--type", "kas.key_request", "--outcome", "deny"},
      [&](const Json& r) { return r.value("requestId", "") == refused.body.value("requestId", ""); });
  ASSERT_FALSE(deny.is_null());
  EXPECT_EQ(deny.value("actor", ""), "testuser-usa-1");
  EXPECT_EQ(deny.value("reason", ""), refused.body.value("reason", ""));
  EXPECT_FALSE(deny.value("reason", "").empty());
  expect_request_fields(deny);
}

TEST_F(Audit, ASpokeSuspensionAndItsReinstatement) {
  auto r = cli_->run({"hub", "spokes", "suspend", "TST", "--reason", "audit integration test"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = cli_->run({"hub", "spokes", "reinstate", "TST"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Json s =
      await_record({"--type", "admin.spoke_suspend", "--resource", "TST"}, [](const Json&) { return true; });
  ASSERT_FALSE(s.is_null());
  EXPECT_EQ(s.value("outcome", ""), "success");
  EXPECT_EQ(s.value("reason", ""), "approved -> suspended: audit integration test");
  EXPECT_NE(s.value("actor", "").find('@'), std::string::npos);
  EXPECT_EQ(s.value("service", ""), "cli");
  Json back = await_record({"--type", "admin.spoke_*", "--resource", "TST"},
                           [](const Json& r) { return r.value("type", "") == "admin.spoke_reinstate"; });
  EXPECT_FALSE(back.is_null());
  // Suspending it again from where it is not approved: refused, and on the record as a failure.
  cli_->run({"hub", "spokes", "reinstate", "TST"});
  Json refused = await_record({"--type", "admin.spoke_reinstate", "--outcome", "failure"},
                              [](const Json&) { return true; });
  EXPECT_FALSE(refused.is_null());
}

TEST_F(Audit, TheAdminQueryIsForAdministratorsOnly) {
  const std::string admin = api_->token("admin-usa", true);
  auto all = api_->call("api", "GET", "/api/admin/audit?type=access.*&limit=3", admin);
  ASSERT_EQ(all.status, 200) << all.body.dump();
  ASSERT_EQ(all.body["events"].size(), 3u);
  for (const auto& e : all.body["events"]) EXPECT_EQ(e.value("type", "").rfind("access.", 0), 0u) << e.dump();
  ASSERT_TRUE(all.body["nextCursor"].is_string());
  auto next = api_->call(
      "api", "GET",
      "/api/admin/audit?type=access.*&limit=3&cursor=" + all.body["nextCursor"].get<std::string>(), admin);
  ASSERT_EQ(next.status, 200);
  ASSERT_FALSE(next.body["events"].empty());
  EXPECT_LT(next.body["events"][0].value("seq", 0), all.body["events"][2].value("seq", 0));
  auto by_doc = api_->call("api", "GET", "/api/admin/audit?resource=" + doc_ + "&outcome=deny", admin);
  ASSERT_EQ(by_doc.status, 200);
  EXPECT_FALSE(by_doc.body["events"].empty());
  for (const auto& e : by_doc.body["events"]) EXPECT_EQ(e.value("outcome", ""), "deny");

  auto user = api_->call("api", "GET", "/api/admin/audit", api_->token("testuser-usa-5", true));
  EXPECT_EQ(user.status, 403) << user.body.dump();
  EXPECT_EQ(api_->call("api", "GET", "/api/admin/audit").status, 401);
  auto big = api_->call("api", "GET", "/api/admin/audit?limit=1001", admin);
  EXPECT_EQ(big.status, 400);
  EXPECT_NE(big.body.value("message", "").find("limit"), std::string::npos) << big.body.dump();
  auto bad = api_->call("api", "GET", "/api/admin/audit?since=yesterday", admin);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.value("message", "").find("since"), std::string::npos) << bad.body.dump();
  auto odd = api_->call("api", "GET", "/api/admin/audit?user=x%27%20OR%201%3D1--", admin);
  EXPECT_EQ(odd.status, 200);
  EXPECT_TRUE(odd.body["events"].empty()) << "a value is a value";
  // The refused query is on the record too.
  Json q = await_record({"--type", "admin.audit_query", "--outcome", "deny", "--user", "testuser-usa-5"},
                        [](const Json&) { return true; });
  EXPECT_FALSE(q.is_null());
}

TEST_F(Audit, TheChainOfTheHubVerifiesAndExports) {
  auto v = cli_->run({"audit", "verify"});
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("chain intact"), std::string::npos) << v.output;
  const auto csv = cli_->home() / "audit.csv";
  auto e = cli_->run({"audit", "export", "--since", "1h", "--format", "csv", "--out", csv.string()});
  ASSERT_EQ(e.exit_code, 0) << e.output;
  std::string text = read_file(csv);
  EXPECT_EQ(text.rfind("seq,time,at_ms,type,", 0), 0u);
  EXPECT_GT(std::count(text.begin(), text.end(), '\n'), 20);
  auto bad = cli_->run({"audit", "--since", "last tuesday"});
  EXPECT_EQ(bad.exit_code, 64) << bad.output;
  EXPECT_NE(bad.output.find("since:"), std::string::npos) << bad.output;
}

TEST_F(Audit, NothingSecretIsInAnyRecord) {
  for (const std::string code : {"USA", "TST"}) {
    const auto file = cli_->home() / ("audit-" + code + ".jsonl");
    auto e = cli_->run({"audit", "export", "--instance", code, "--format", "jsonl", "--out", file.string()});
    ASSERT_EQ(e.exit_code, 0) << e.output;
    const std::string text = read_file(file);
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.find("eyJ"), std::string::npos) << code << ": a token (or part of one) in the trail";
    EXPECT_EQ(text.find("the plaintext that must never be audited"), std::string::npos);
    EXPECT_EQ(text.find(base64_encode("the plaintext that must never be audited")), std::string::npos);
    Json secrets = Json::parse(read_file(cli_->home() / "instances" / to_lower(code) / "secrets.json"));
    for (auto it = secrets.begin(); it != secrets.end(); ++it) {
      if (!it->is_string() || it->get<std::string>().size() < 8) continue;
      EXPECT_EQ(text.find(it->get<std::string>()), std::string::npos) << code << ": secret " << it.key();
    }
    for (const auto& otp : otps_) {
      std::regex alone("(^|[^0-9])" + otp + "([^0-9]|$)");
      EXPECT_FALSE(std::regex_search(text, alone)) << code << ": one-time code " << otp;
    }
  }
}

// Last: these change the spoke's chain on purpose (the hub's stays intact for the cases above).
TEST_F(Audit, AnEditedAndADeletedRecordAreNamedByVerify) {
  // A few records of the spoke's own: failed sign-ins at its idp.
  ApiClient tst(*cli_, "TST");
  for (int i = 0; i < 3; ++i)
    tst.oidc_post("token", {{"grant_type", "password"},
                            {"client_id", "dive-cli"},
                            {"username", "testuser-tst-1"},
                            {"password", "not-the-password-" + std::to_string(i)}});
  ASSERT_TRUE(wait_until(
      [&] {
        return records({"--instance", "TST", "--type", "auth.login_failed"}).size() >= 3;
      },
      15s, 200ms));
  auto intact = cli_->run({"audit", "verify", "--instance", "TST"});
  ASSERT_EQ(intact.exit_code, 0) << intact.output;
  pqxx::connection db(orch::instance_db_conninfo(orch::Layout{cli_->home()}.instance("TST")));
  auto head = [&] {
    pqxx::nontransaction tx(db);
    return tx.exec1("SELECT seq FROM audit_head")[0].as<int64_t>();
  }();
  ASSERT_GE(head, 3);
  const int64_t victim = head - 1;
  auto superuser = [&](const std::string& sql) {
    pqxx::work tx(db);
    tx.exec("SET LOCAL session_replication_role = replica");  // the superuser steps past the trigger
    tx.exec(sql);
    tx.commit();
  };
  {
    pqxx::nontransaction tx(db);
    EXPECT_THROW(tx.exec_params(
                     "UPDATE audit_blocks SET reason[$1 - lo + 1] = 'x' WHERE lo <= $1 AND hi >= $1", victim),
                 pqxx::sql_error)
        << "even the owner cannot change a record without stepping past the trigger";
  }
  std::string reason;
  {
    pqxx::nontransaction tx(db);
    reason = tx.exec1("SELECT reason FROM audit_records WHERE seq = " + std::to_string(victim))[0]
                 .as<std::string>();
  }
  // The record is element victim - lo + 1 of the block (one append) that holds it.
  const std::string in_block =
      " WHERE lo <= " + std::to_string(victim) + " AND hi >= " + std::to_string(victim);
  superuser("UPDATE audit_blocks SET reason[" + std::to_string(victim) + " - lo + 1] = 'nothing happened'" +
            in_block);
  auto edited = cli_->run({"audit", "verify", "--instance", "TST", "--json"});
  EXPECT_EQ(edited.exit_code, 1) << edited.output;
  Json ej = Json::parse(edited.output.substr(edited.output.find('{')));
  EXPECT_FALSE(ej.value("intact", true));
  EXPECT_EQ(ej["broken"].value("seq", 0), victim) << edited.output;
  EXPECT_NE(ej["broken"].value("what", "").find("changed after it was written"), std::string::npos);
  EXPECT_TRUE(ej["broken"]["time"].is_string());

  // Put back as it was: the chain verifies again (what is checked is the content, not a flag).
  pqxx::work fix(db);
  fix.exec("SET LOCAL session_replication_role = replica");
  fix.exec_params("UPDATE audit_blocks SET reason[$2 - lo + 1] = $1 WHERE lo <= $2 AND hi >= $2", reason,
                  victim);
  fix.commit();
  auto restored = cli_->run({"audit", "verify", "--instance", "TST"});
  ASSERT_EQ(restored.exit_code, 0) << restored.output;

  // The head verify printed, kept outside: later verifies check the chain still reaches it.
  const auto at = intact.output.find("--expect ");
  ASSERT_NE(at, std::string::npos) << intact.output;
  const std::string kept = intact.output.substr(at + 9, intact.output.find('\n', at) - at - 9);
  auto reached = cli_->run({"audit", "verify", "--instance", "TST", "--expect", kept});
  EXPECT_EQ(reached.exit_code, 0) << reached.output;
  EXPECT_NE(reached.output.find("reached"), std::string::npos) << reached.output;
  std::string other = kept;
  other.back() = other.back() == '0' ? '1' : '0';
  auto differs = cli_->run({"audit", "verify", "--instance", "TST", "--expect", other, "--json"});
  EXPECT_EQ(differs.exit_code, 1) << differs.output;
  Json dj = Json::parse(differs.output.substr(differs.output.find('{')));
  EXPECT_TRUE(dj.value("intact", false)) << "the chain itself verifies";
  EXPECT_FALSE(dj.value("reachesKeptHeads", true));
  EXPECT_EQ(dj["kept"][0].value("result", ""), "rewritten") << differs.output;
  auto malformed = cli_->run({"audit", "verify", "--instance", "TST", "--expect", "12:abc"});
  EXPECT_EQ(malformed.exit_code, 64) << malformed.output;
  EXPECT_NE(malformed.output.find("SEQ:HASH"), std::string::npos) << malformed.output;

  // Deleting the record deletes its block: the chain breaks at the block's first record.
  int64_t first;
  {
    pqxx::nontransaction tx(db);
    first = tx.exec1("SELECT lo FROM audit_blocks" + in_block)[0].as<int64_t>();
  }
  superuser("DELETE FROM audit_blocks" + in_block);
  auto deleted = cli_->run({"audit", "verify", "--instance", "TST"});
  EXPECT_EQ(deleted.exit_code, 1) << deleted.output;
  EXPECT_NE(deleted.output.find("BROKEN at seq " + std::to_string(first)), std::string::npos)
      << deleted.output;
  EXPECT_NE(deleted.output.find("missing (deleted)"), std::string::npos) << deleted.output;
}
