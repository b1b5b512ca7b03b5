// Protected documents end to end (issue 5) on a hub deployed for real (test profile, seeded): the seeded
// users see exactly what they may read, reads and key requests follow the policy, the KAS refuses
// tampered objects, and no failure of pdp, kas or redis ever yields a document or key the policy refuses.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "api_client.hpp"
#include "common/encoding.hpp"
#include "common/random.hpp"
#include "dive_cli.hpp"
#include "orchestrator/instance_config.hpp"
#include "policy/bundle_store.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

struct Doc {
  std::string id, classification;
};

class Resources : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cli_ = std::make_unique<DiveCli>(std::vector<std::string>{"USA"});
    auto r = cli_->run({"hub", "deploy", "--profile", "test", "--seed", "80"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    api_ = std::make_unique<ApiClient>(*cli_, "USA");
  }
  static void TearDownTestSuite() {
    api_.reset();
    cli_.reset();
  }

  static std::vector<Doc> all_docs() {
    pqxx::connection c(orch::instance_db_conninfo(orch::Layout{cli_->home()}.instance("USA")));
    pqxx::work tx(c);
    std::vector<Doc> out;
    for (const auto& row : tx.exec("SELECT resource_id, classification FROM resources ORDER BY seq"))
      out.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
    return out;
  }
  // The newest stored document `token` may read (a real read decides), or "" when there is none.
  static std::string readable_doc(const std::string& token) {
    std::string id;
    for (const auto& d : all_docs())
      if (api_->call("api", "GET", "/api/resources/" + d.id, token).status == 200) id = d.id;
    return id;
  }
  // Every page of the list, following nextCursor.
  static std::set<std::string> listed(const std::string& token) {
    std::set<std::string> ids;
    std::string cursor;
    for (int page = 0; page < 50; ++page) {
      auto r = api_->call("api", "GET",
                          "/api/resources?limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor), token);
      EXPECT_EQ(r.status, 200) << r.body.dump();
      if (r.status != 200) break;
      for (const auto& d : r.body["resources"]) {
        EXPECT_TRUE(ids.insert(d["resourceId"].get<std::string>()).second) << "listed twice";
        EXPECT_FALSE(d.contains("ztdf")) << "the list never carries objects";
      }
      if (r.body["nextCursor"].is_null()) break;
      cursor = r.body["nextCursor"].get<std::string>();
    }
    return ids;
  }
  static bool wait_for(const std::function<bool()>& cond, std::chrono::seconds limit) {
    return wait_until(cond, limit, 200ms);
  }
  static double metric(const std::string& service, const std::string& series) {
    auto [status, text] = cli_->https_get(cli_->port("USA", service), "/metrics");
    for (size_t pos = text.find(series); pos != std::string::npos; pos = text.find(series, pos + 1)) {
      if (pos > 0 && text[pos - 1] != '\n') continue;
      size_t sp = text.find(' ', pos + series.size());
      if (text.compare(pos, series.size(), series) == 0 && sp == pos + series.size())
        return std::stod(text.substr(sp + 1, text.find('\n', sp) - sp - 1));
    }
    return 0;
  }

  static std::unique_ptr<DiveCli> cli_;
  static std::unique_ptr<ApiClient> api_;
};
std::unique_ptr<DiveCli> Resources::cli_;
std::unique_ptr<ApiClient> Resources::api_;

}  // namespace

TEST_F(Resources, EverySeededUserSeesExactlyTheDocumentsTheyMayRead) {
  auto docs = all_docs();
  ASSERT_EQ(docs.size(), 80u);
  int allowed_total = 0;
  for (int n = 1; n <= 5; ++n) {
    for (bool otp : {false, true}) {
      std::string user = "testuser-usa-" + std::to_string(n);
      std::string t = api_->token(user, otp);
      ASSERT_FALSE(t.empty());
      std::set<std::string> readable;
      for (const auto& d : docs) {
        auto r = api_->call("api", "GET", "/api/resources/" + d.id, t);
        if (r.status == 200) {
          readable.insert(d.id);
          EXPECT_TRUE(r.body["decision"]["allow"].get<bool>());
          EXPECT_FALSE(r.body["ztdf"]["payload"].contains("ciphertext")) << "metadata only";
          EXPECT_FALSE(r.body["ztdf"]["keyAccessObjects"].empty());
        } else {
          ASSERT_EQ(r.status, 403) << user << " " << d.id << " " << r.body.dump();
          EXPECT_FALSE(r.body.value("reason", "").empty()) << "a refusal carries the policy's reason";
          EXPECT_TRUE(r.body.contains("evaluation_details"));
          EXPECT_FALSE(r.body.value("requestId", "").empty());
        }
      }
      EXPECT_EQ(listed(t), readable) << user << (otp ? " with" : " without") << " OTP";
      allowed_total += static_cast<int>(readable.size());
    }
  }
  EXPECT_GT(allowed_total, 0) << "the seeded users can read something";
}

TEST_F(Resources, ATopSecretDocumentIsRefusedToTheSecretUserForClearance) {
  std::string ts;
  for (const auto& d : all_docs())
    if (d.classification == "TOP_SECRET") ts = d.id;
  ASSERT_FALSE(ts.empty());
  std::string t = api_->token("testuser-usa-4", true);  // SECRET, with OTP (AAL2)
  auto r = api_->call("api", "GET", "/api/resources/" + ts, t);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body.value("reason", "").rfind("Insufficient clearance", 0), 0u) << r.body.dump();
  auto k = api_->call("api", "POST", "/api/resources/" + ts + "/key", t, Json::object());
  EXPECT_EQ(k.status, 403);
  EXPECT_FALSE(k.body.contains("content"));
}

TEST_F(Resources, UploadListReadAndDecryptRoundTrip) {
  std::string t = api_->token("testuser-usa-5", true);  // TOP_SECRET, NATO + FVEY
  std::string secret_text = "Operation order 7: rendezvous at grid 42.\n";
  Json doc{{"title", "Round trip " + secure_token(6)},
           {"content", base64_encode(secret_text)},
           {"classification", "SECRET"},
           {"releasabilityTo", {"USA", "GBR"}},
           {"COI", {"FVEY"}},
           {"coiOperator", "ALL"},
           {"caveats", Json::array()},
           {"releasableToIndustry", false}};
  auto up = api_->call("api", "POST", "/api/resources", t, doc);
  ASSERT_EQ(up.status, 201) << up.body.dump();
  std::string id = up.body["resourceId"];
  EXPECT_EQ(up.body["displayMarking"], "SECRET//FVEY//REL USA, GBR");

  auto read = api_->call("api", "GET", "/api/resources/" + id, t);
  ASSERT_EQ(read.status, 200) << read.body.dump();
  EXPECT_EQ(read.body["title"], doc["title"]);
  EXPECT_EQ(read.body["originatingCountry"], "USA");

  auto found =
      api_->call("api", "GET", "/api/resources?query=" + doc["title"].get<std::string>().substr(11), t);
  ASSERT_EQ(found.status, 200);
  ASSERT_EQ(found.body["count"], 1) << found.body.dump();
  EXPECT_EQ(found.body["resources"][0]["resourceId"], id);

  auto key = api_->call("api", "POST", "/api/resources/" + id + "/key", t, Json::object());
  ASSERT_EQ(key.status, 200) << key.body.dump();
  EXPECT_EQ(base64_decode(key.body["content"].get<std::string>()).value_or(""), secret_text);

  auto z = api_->call("api", "GET", "/api/resources/" + id + "/ztdf", t);
  ASSERT_EQ(z.status, 200);
  EXPECT_TRUE(z.body["payload"].contains("ciphertext"));
  EXPECT_EQ(z.body["payload"]["ciphertext"].get<std::string>().find("rendezvous"), std::string::npos);

  // A SECRET user without FVEY cannot read it; the upload rules are the policy's.
  std::string t3 = api_->token("testuser-usa-3", true);
  EXPECT_EQ(api_->call("api", "GET", "/api/resources/" + id, t3).status, 403);
  Json not_ours = doc;
  not_ours["releasabilityTo"] = {"GBR"};
  auto refused = api_->call("api", "POST", "/api/resources", t, not_ours);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.value("reason", "").find("Upload releasabilityTo must include uploader country"),
            std::string::npos)
      << refused.body.dump();

  // Bad input: a clear 400 and nothing stored.
  size_t before = all_docs().size();
  for (Json bad :
       {Json{{"title", "x"}}, Json{{"title", "x"}, {"content", "***"}, {"classification", "SECRET"}},
        Json{{"title", "x"}, {"content", "aGk="}, {"classification", "COSMIC"}},
        Json{
            {"title", "x"}, {"content", "aGk="}, {"classification", "SECRET"}, {"releasabilityTo", "USA"}}}) {
    auto r = api_->call("api", "POST", "/api/resources", t, bad);
    EXPECT_EQ(r.status, 400) << bad.dump() << " " << r.body.dump();
    EXPECT_FALSE(r.body.value("message", "").empty());
  }
  EXPECT_EQ(all_docs().size(), before);
  EXPECT_EQ(api_->call("api", "GET", "/api/resources/doc-USA-nope", t).status, 404);
  for (const char* q :
       {"limit=1000", "limit=0", "limit=10abc", "limit=", "cursor=abc", "cursor=-5", "cursor=1e3"}) {
    auto r = api_->call("api", "GET", std::string("/api/resources?") + q, t);
    EXPECT_EQ(r.status, 400) << q;
    EXPECT_FALSE(r.body.value("message", "").empty()) << q;
  }
  EXPECT_EQ(api_->call("api", "GET", "/api/resources", "").status, 401);
}

TEST_F(Resources, TheKasRefusesATamperedLabelOrWrappedKeyAndReleasesTheGenuineOne) {
  std::string t = api_->token("testuser-usa-5", true);
  const std::string id = readable_doc(t);
  ASSERT_FALSE(id.empty());
  Json z = api_->call("api", "GET", "/api/resources/" + id + "/ztdf", t).body;
  Json genuine{{"policy", z["policy"]}, {"kao", z["keyAccessObjects"][0]}};
  double integrity_before = metric("kas", "dive_v3_kas_integrity_failures_total");

  auto ok = api_->call("kas", "POST", "/request-key", t, genuine);
  ASSERT_EQ(ok.status, 200) << ok.body.dump();
  EXPECT_EQ(base64_decode(ok.body.value("dataKey", "")).value_or("").size(), 32u);

  Json label = genuine;
  Json& rel = label["policy"]["securityLabel"]["releasabilityTo"];
  for (const char* c : {"FRA", "DEU", "JPN", "BRA"})
    if (std::find(rel.begin(), rel.end(), Json(c)) == rel.end()) {
      rel.push_back(c);  // one more nation, marking left as it was: a widened label
      break;
    }
  auto r1 = api_->call("kas", "POST", "/request-key", t, label);
  EXPECT_EQ(r1.status, 403) << r1.body.dump();
  EXPECT_FALSE(r1.body.contains("dataKey"));

  Json wrapped = genuine;
  std::string w = base64_decode(wrapped["kao"]["wrappedKey"].get<std::string>()).value();
  w[w.size() / 2] ^= 0x01;
  wrapped["kao"]["wrappedKey"] = base64_encode(w);
  auto r2 = api_->call("kas", "POST", "/request-key", t, wrapped);
  EXPECT_EQ(r2.status, 403) << r2.body.dump();
  EXPECT_FALSE(r2.body.contains("dataKey"));
  EXPECT_GE(metric("kas", "dive_v3_kas_integrity_failures_total"), integrity_before + 2);

  EXPECT_EQ(api_->call("kas", "POST", "/request-key", t, Json{{"policy", 1}}).status, 400);
  EXPECT_EQ(api_->call("kas", "POST", "/request-key", "", genuine).status, 401);
  // A user the policy refuses gets no key from the kas either, even with a genuine object.
  std::string t1 = api_->token("testuser-usa-1", true);
  auto denied = api_->call("kas", "POST", "/request-key", t1, genuine);
  EXPECT_EQ(denied.status, 403);
  EXPECT_FALSE(denied.body.contains("dataKey"));
}

TEST_F(Resources, AnObjectChangedInTheDatabaseIsReadAsItIsNowNotAsItWasParsed) {
  std::string t = api_->token("testuser-usa-5", true);
  const std::string id = readable_doc(t);  // read, so parsed and cached by this api
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(listed(t).count(id));
  pqxx::connection db(orch::instance_db_conninfo(orch::Layout{cli_->home()}.instance("USA")));
  auto set_ztdf = [&](const std::string& text) {
    pqxx::work tx(db);
    tx.exec_params("UPDATE resources SET ztdf = $1 WHERE resource_id = $2", text, id);
    tx.commit();
  };
  std::string original;
  {
    pqxx::nontransaction tx(db);
    original =
        tx.exec_params("SELECT ztdf FROM resources WHERE resource_id = $1", id)[0][0].as<std::string>();
  }
  struct Restore {
    std::function<void()> f;
    ~Restore() { f(); }
  } restore{[&] { set_ztdf(original); }};

  // Someone with database access replaces the object: the api must not answer from what it parsed before.
  set_ztdf(R"({"manifest":"not a ZTDF object"})");
  auto r = api_->call("api", "GET", "/api/resources/" + id, t);
  EXPECT_EQ(r.status, 403) << r.body.dump();
  EXPECT_NE(r.body.value("message", "").find("not a valid ZTDF object"), std::string::npos) << r.body.dump();
  EXPECT_EQ(api_->call("api", "GET", "/api/resources/" + id + "/ztdf", t).status, 403);
  EXPECT_FALSE(listed(t).count(id)) << "the list does not show an object a read refuses";

  set_ztdf(original);
  EXPECT_EQ(api_->call("api", "GET", "/api/resources/" + id, t).status, 200);
  EXPECT_TRUE(listed(t).count(id));
}

TEST_F(Resources, WithThePdpDownNothingUncachedIsReleasedAndTheBreakerOpensThenRecovers) {
  auto docs = all_docs();
  std::string admin = api_->token("admin-usa", true);  // no decision of this subject is cached yet
  ASSERT_EQ(cli_->run({"hub", "stop", "pdp"}).exit_code, 0);
  int threshold = cli_->instance_config("USA")["breakers"]["pdp"].value("failureThreshold", 5);
  int unavailable = 0;
  for (size_t i = 0; i < docs.size() && i < static_cast<size_t>(threshold) + 3; ++i) {
    auto r = api_->call("api", "GET", "/api/resources/" + docs[i].id, admin);
    EXPECT_NE(r.status, 200) << "no decision, no document";
    if (r.status == 503) {
      ++unavailable;
      EXPECT_NE(r.body.value("message", "").find("policy decision point"), std::string::npos)
          << r.body.dump();
    }
    auto k = api_->call("api", "POST", "/api/resources/" + docs[i].id + "/key", admin, Json::object());
    EXPECT_NE(k.status, 200);
    EXPECT_FALSE(k.body.contains("content"));
  }
  EXPECT_EQ(unavailable, threshold + 3);
  EXPECT_EQ(api_->call("api", "GET", "/api/resources", admin).status, 503);
  // Health reports are cached for 250 ms (a supervisor probe may have made one just before the stop).
  std::pair<int, std::string> health;
  EXPECT_TRUE(wait_for(
      [&] {
        health = cli_->https_get(cli_->port("USA", "api"), "/health");
        return health.first == 503 && Json::parse(health.second).value("status", "") == "unhealthy";
      },
      5s))
      << health.first << " " << health.second;
  std::string dbody;
  EXPECT_TRUE(wait_for(
      [&] {
        dbody = cli_->https_get(cli_->port("USA", "api"), "/health/detailed").second;
        return Json::parse(dbody)["circuitBreakers"]["pdp"].value("state", "") == "OPEN";
      },
      5s))
      << dbody;
  EXPECT_EQ(metric("api", "dive_v3_circuit_breaker_state{service=\"pdp\"}"), 2);

  ASSERT_EQ(cli_->run({"hub", "start", "pdp"}).exit_code, 0);
  EXPECT_TRUE(wait_for(
      [&] {
        std::string t5 = api_->token("testuser-usa-5", true);
        for (const auto& d : docs)
          if (api_->call("api", "GET", "/api/resources/" + d.id, t5).status == 200) return true;
        return false;
      },
      60s))
      << "reads succeed again once the pdp is back";
  EXPECT_TRUE(
      wait_for([&] { return metric("api", "dive_v3_circuit_breaker_state{service=\"pdp\"}") == 0; }, 30s));
}

TEST_F(Resources, WithTheKasDownMetadataReadsWorkAndKeyRequestsAre503) {
  std::string t = api_->token("testuser-usa-5", true);
  const std::string id = readable_doc(t);
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(cli_->run({"hub", "stop", "kas"}).exit_code, 0);
  EXPECT_EQ(api_->call("api", "GET", "/api/resources/" + id, t).status, 200);
  auto k = api_->call("api", "POST", "/api/resources/" + id + "/key", t, Json::object());
  EXPECT_EQ(k.status, 503) << k.body.dump();
  EXPECT_FALSE(k.body.contains("content"));
  EXPECT_FALSE(k.body.value("message", "").empty()) << "a 503 says why: " << k.body.dump();
  // Health: degraded (the kas is important, not critical), the kas check down; the kas breaker opens
  // once its threshold of failed key requests (3) is reached.
  for (int i = 0; i < 3; ++i) api_->call("api", "POST", "/api/resources/" + id + "/key", t, Json::object());
  Json h;
  EXPECT_TRUE(wait_for(
      [&] {
        h = Json::parse(cli_->https_get(cli_->port("USA", "api"), "/health/detailed").second);
        const Json check = h.is_object() ? h["checks"]["kas"] : Json();
        const Json breaker = h.is_object() ? h["circuitBreakers"]["kas"] : Json();
        return h.value("status", "") == "degraded" && check.is_object() &&
               check.value("status", "") == "down" && breaker.is_object() &&
               breaker.value("state", "") == "OPEN";
      },
      20s))
      << h.dump();
  ASSERT_EQ(cli_->run({"hub", "start", "kas"}).exit_code, 0);
  EXPECT_TRUE(wait_for(
      [&] {
        return api_->call("api", "POST", "/api/resources/" + id + "/key", t, Json::object()).status == 200;
      },
      60s));
}

TEST_F(Resources, WithTheInstanceRedisDownNothingDegradesBecauseNoRequestPathUsesIt) {
  std::string t = api_->token("testuser-usa-5", true);
  // From a healthy api (an earlier test's breaker may still be closing).
  ASSERT_TRUE(wait_for(
      [&] {
        auto [s, body] = cli_->https_get(cli_->port("USA", "api"), "/health");
        return s == 200 && Json::parse(body).value("status", "") == "healthy";
      },
      30s));
  ASSERT_EQ(cli_->run({"hub", "stop", "redis"}).exit_code, 0);
  EXPECT_EQ(cli_->service_status("USA", "redis")["state"], "stopped");
  for (int i = 0; i < 3; ++i) {
    auto [s, body] = cli_->https_get(cli_->port("USA", "api"), "/health/detailed");
    Json h = Json::parse(body);
    EXPECT_EQ(h.value("status", ""), "healthy") << body;
    EXPECT_FALSE(h["checks"].contains("redis")) << body;
    EXPECT_EQ(api_->call("api", "GET", "/api/resources?limit=5", t).status, 200);
  }
  ASSERT_EQ(cli_->run({"hub", "start", "redis"}).exit_code, 0);
}

TEST_F(Resources, DetailedHealthNamesEveryDependencyEveryBreakerAndMemory) {
  auto [s, body] = cli_->https_get(cli_->port("USA", "api"), "/health/detailed");
  Json h = Json::parse(body);
  for (const char* dep : {"database", "pdp", "idp", "kas", "blacklistRedis", "cache"})
    EXPECT_TRUE(h["checks"].contains(dep)) << dep << " missing: " << body;
  // Every breaker the api has, each with its fields (the instance Redis has none: nothing uses it).
  EXPECT_FALSE(h["checks"].contains("redis")) << body;
  for (const char* b : {"database", "pdp", "kas", "idp", "blacklist_redis"}) {
    ASSERT_TRUE(h["circuitBreakers"].contains(b)) << b;
    for (const char* f : {"state", "failures", "rejects", "lastFailure"})
      EXPECT_TRUE(h["circuitBreakers"][b].contains(f)) << b << "." << f;
  }
  EXPECT_GT(h["memory"].value("rssBytes", 0), 0);
  // The decision metrics move with traffic.
  std::string t = api_->token("testuser-usa-5", true);
  double before = metric("api", "dive_v3_authorization_decisions_total{decision=\"allow\"}") +
                  metric("api", "dive_v3_authorization_decisions_total{decision=\"deny\"}");
  api_->call("api", "GET", "/api/resources?limit=3", t);
  double after = metric("api", "dive_v3_authorization_decisions_total{decision=\"allow\"}") +
                 metric("api", "dive_v3_authorization_decisions_total{decision=\"deny\"}");
  EXPECT_GT(after, before);
}

TEST_F(Resources, AKasKeyRotationKeepsOlderDocumentsReadableAndWrapsNewOnesToTheNewKey) {
  std::string t = api_->token("testuser-usa-5", true);
  const std::string old_id = readable_doc(t);
  ASSERT_FALSE(old_id.empty());
  Json before = cli_->run_json({"hub", "kas", "keys", "--json"});
  ASSERT_EQ(before.size(), 1u);

  auto r = cli_->run({"hub", "kas", "rotate-key"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  Json after = cli_->run_json({"hub", "kas", "keys", "--json"});
  ASSERT_EQ(after.size(), 2u);
  std::string new_kid;
  for (const auto& k : after)
    if (k["active"].get<bool>()) new_kid = k["kid"];
  EXPECT_NE(new_kid, before[0]["kid"].get<std::string>());

  // An older document still opens (its key is kept); a new one is wrapped to the new key and opens at once.
  EXPECT_EQ(api_->call("api", "POST", "/api/resources/" + old_id + "/key", t, Json::object()).status, 200);
  Json doc{{"title", "After rotation"},
           {"content", base64_encode("new key")},
           {"classification", "SECRET"},
           {"releasabilityTo", {"USA"}},
           {"COI", {"FVEY"}},
           {"coiOperator", "ALL"}};
  auto up = api_->call("api", "POST", "/api/resources", t, doc);
  ASSERT_EQ(up.status, 201) << up.body.dump();
  std::string id = up.body["resourceId"];
  auto z = api_->call("api", "GET", "/api/resources/" + id + "/ztdf", t);
  EXPECT_EQ(z.body["keyAccessObjects"][0]["kid"], new_kid);
  auto k = api_->call("api", "POST", "/api/resources/" + id + "/key", t, Json::object());
  ASSERT_EQ(k.status, 200) << k.body.dump();
  EXPECT_EQ(base64_decode(k.body["content"].get<std::string>()).value_or(""), "new key");
  EXPECT_EQ(cli_->run({"spoke", "kas", "rotate-key", "ZZZ"}).exit_code, 64) << "not deployed: usage error";
}

TEST_F(Resources, AClientControlledNewlineNeverForgesALogLine) {
  // %0a in the path is decoded to a newline; the api logs the refused request with its path.
  const std::string forged = "2026-01-01T00:00:00.000Z info  [api-usa] forged-admin-login";
  auto r =
      api_->call("api", "GET",
                 "/api/resources/doc-x%0a2026-01-01T00:00:00.000Z%20info%20%20[api-usa]%20forged-admin-login",
                 "not-a-token");
  EXPECT_EQ(r.status, 401);
  const auto log = cli_->home() / "instances" / "usa" / "logs" / "api.log";
  std::string text;
  EXPECT_TRUE(wait_until(
      [&] {
        text = read_file(log);
        return text.find("forged-admin-login") != std::string::npos;
      },
      10s, 100ms))
      << "the refused request was not logged";
  EXPECT_NE(text.find("doc-x\\n" + forged), std::string::npos) << "escaped on the request's own line";
  EXPECT_EQ(text.find("\n" + forged), std::string::npos) << "a forged line starts the next line";
}

TEST_F(Resources, APolicyBundleChangeReversesACachedAllowAtOnce) {
  const std::string t = api_->token("testuser-usa-5", true);  // TOP_SECRET
  std::string id;
  for (const auto& d : all_docs())
    if (d.classification != "UNCLASSIFIED" &&
        api_->call("api", "GET", "/api/resources/" + d.id, t).status == 200)
      id = d.id;
  ASSERT_FALSE(id.empty());
  auto again = api_->call("api", "GET", "/api/resources/" + id, t);
  ASSERT_EQ(again.status, 200);
  EXPECT_TRUE(again.body["decision"].value("cached", false)) << "decisions are cached between bundle changes";

  // The operator caps the hub's own users at UNCLASSIFIED: the cached allow must not outlive the change.
  Json bundle;
  {
    pqxx::connection c(orch::instance_db_conninfo(orch::Layout{cli_->home()}.instance("USA")));
    bundle = policy::load_active_bundle(c)->content;
  }
  const std::string issuer = cli_->instance_config("USA")["issuer"];
  ASSERT_TRUE(bundle["trusted_issuers"].contains(issuer)) << bundle.dump();
  bundle["trusted_issuers"][issuer]["max_classification"] = "UNCLASSIFIED";
  TempDir d;
  write_file_atomic(d.path() / "capped.json", bundle.dump(), 0644);
  auto load = cli_->run({"policy", "load", (d.path() / "capped.json").string(), "USA"});
  ASSERT_EQ(load.exit_code, 0) << load.output;
  bool denied = wait_until([&] { return api_->call("api", "GET", "/api/resources/" + id, t).status == 403; },
                           5s, 100ms);
  EXPECT_TRUE(denied) << "still allowed from the cache (SECRET and CONFIDENTIAL allows are cached 30-60 s)";
  auto back = cli_->run({"policy", "reload", "USA"});
  ASSERT_EQ(back.exit_code, 0) << back.output;
  EXPECT_TRUE(wait_until([&] { return api_->call("api", "GET", "/api/resources/" + id, t).status == 200; },
                         10s, 100ms));
}
