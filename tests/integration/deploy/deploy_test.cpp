// A hub and a TST spoke deployed for real (test profile) in a private $DIVE_HOME at a free port shift:
// status, TLS health, metrics, logs, stop/start, verify, orchestration state, preflight refusals, nuke.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pqxx/pqxx>
#include "dive_cli.hpp"

#include "common/encoding.hpp"
#include "net/https_client.hpp"
#include "orchestrator/port_probe.hpp"
#include "servers.hpp"
#include "store/local_postgres.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {
bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

}  // namespace

class Deployed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cli_ = new DiveCli({"USA", "TST", "DEV", "BRA"});
    auto hub = cli_->run({"hub", "deploy", "--profile", "test"});
    ASSERT_EQ(hub.exit_code, 0) << hub.output;
    auto spoke = cli_->run({"spoke", "deploy", "TST", "--profile", "test"});
    ASSERT_EQ(spoke.exit_code, 0) << spoke.output;
  }
  static void TearDownTestSuite() {
    delete cli_;
    cli_ = nullptr;
  }
  static DiveCli* cli_;
};
DiveCli* Deployed::cli_ = nullptr;

TEST_F(Deployed, StatusReportsEveryProcessRunningAndHealthy) {
  for (const std::string code : {"USA", "TST"}) {
    Json st = code == "USA" ? cli_->run_json({"hub", "status", "--json"})
                            : cli_->run_json({"spoke", "status", "TST", "--json"});
    EXPECT_TRUE(st["running"].get<bool>()) << code;
    std::set<std::string> names;
    for (const auto& s : st["services"]) {
      names.insert(s["name"]);
      EXPECT_EQ(s["state"], "running") << code << " " << s.dump();
      EXPECT_TRUE(s["healthy"].get<bool>()) << code << " " << s.dump();
      EXPECT_TRUE(s["pid"].is_number()) << s.dump();
      EXPECT_EQ(s["restarts"], 0) << s.dump();
    }
    // The exporters of its stores (docs/MONITORING.md) run beside them, supervised like the rest.
    std::set<std::string> want{"postgres",          "redis",         "pdp", "idp", "kas", "api", "web",
                               "postgres-exporter", "redis-exporter"};
    if (code == "USA") {
      want.insert("redis-blacklist");
      want.insert("redis-blacklist-exporter");
    }
    EXPECT_EQ(names, want) << code;
  }
  auto human = cli_->run({"hub", "status"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_TRUE(contains(human.output, "USA (hub): running")) << human.output;
}

TEST_F(Deployed, EveryServiceAnswersHealthOverVerifiedTls) {
  for (const std::string code : {"USA", "TST"}) {
    for (const std::string svc : {"api", "idp", "pdp", "kas", "web"}) {
      int port = cli_->port(code, svc);
      auto [status, body] = cli_->https_get(port, "/health");
      EXPECT_EQ(status, 200) << code << " " << svc << " " << body;
      if (svc == "pdp") {
        EXPECT_EQ(body, "{}") << "OPA's health: a bundle is loaded";
      }
      Json h = Json::parse(cli_->https_get(port, "/health/detailed").second);
      EXPECT_EQ(h["status"], "healthy") << code << " " << svc << " " << h.dump();
      EXPECT_EQ(cli_->https_get(port, "/health/live").first, 200);
      EXPECT_EQ(cli_->https_get(port, "/health/ready").first, 200);
    }
  }
  // The api reports each dependency of docs/ORCHESTRATION.md it has in this build.
  Json api = Json::parse(cli_->https_get(cli_->port("USA", "api"), "/health").second);
  for (const char* dep : {"database", "pdp", "idp", "kas", "blacklistRedis"})
    EXPECT_EQ(api["checks"][dep]["status"], "up") << dep << " " << api.dump();
  EXPECT_FALSE(api["checks"].contains("redis")) << "the instance Redis is on no request path: " << api.dump();
  EXPECT_TRUE(api["circuitBreakers"].contains("pdp"));
}

TEST_F(Deployed, TlsIsVerifiedAgainstOurCaOnly) {
  // A certificate from our CA is refused by a client that trusts another CA (system roots here).
  net::ClientConfig cc;
  cc.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  net::HttpsClient client(cc);
  net::ClientRequest r;
  r.url = "https://localhost:" + std::to_string(cli_->port("USA", "api")) + "/health";
  EXPECT_THROW(client.send(r), net::TransportError);
}

TEST_F(Deployed, MetricsCarryBreakerStateAndPoolGauges) {
  for (const std::string svc : {"api", "idp", "pdp", "kas"}) {
    auto [status, body] = cli_->https_get(cli_->port("USA", svc), "/metrics");
    ASSERT_EQ(status, 200) << svc;
    EXPECT_TRUE(contains(body, "dive_v3_circuit_breaker_state{service=\"database\"} 0")) << svc;
    for (const char* m :
         {"dive_v3_db_connections_active{db_type=\"instance\"}",
          "dive_v3_db_connections_idle{db_type=\"instance\"}",
          "dive_v3_db_connections_total{db_type=\"instance\"}", "dive_v3_db_connection_errors_total"})
      EXPECT_TRUE(contains(body, m)) << svc << " lacks " << m;
    EXPECT_TRUE(contains(body, "dive_v3_http_requests_total")) << svc;
  }
  auto [s, api] = cli_->https_get(cli_->port("USA", "api"), "/metrics");
  EXPECT_TRUE(contains(api, "dive_v3_circuit_breaker_state{service=\"pdp\"}"));
}

TEST_F(Deployed, LogsShowEachServiceAndRejectUnknownNames) {
  auto r = cli_->run({"hub", "logs", "api", "-n", "20"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.output, "listening on https://127.0.0.1:")) << r.output;
  auto all = cli_->run({"spoke", "logs", "TST"});
  EXPECT_TRUE(contains(all.output, "pdp | ")) << all.output;
  EXPECT_TRUE(contains(all.output, "supervisor | ")) << all.output;
  EXPECT_EQ(cli_->run({"hub", "logs", "nginx"}).exit_code, 64);
}

TEST_F(Deployed, VerifyPassesEveryCheck) {
  Json v = cli_->run_json({"hub", "verify", "--json"});
  EXPECT_TRUE(v["ok"].get<bool>()) << v.dump(2);
  std::set<std::string> names;
  for (const auto& c : v["checks"]) names.insert(c["name"]);
  for (const char* n : {"postgres password auth", "redis password auth", "blacklist redis", "certificate",
                        "api /metrics", "web /metrics", "web console (TLS)"})
    EXPECT_TRUE(names.count(n)) << n;
  EXPECT_EQ(cli_->run({"spoke", "verify", "TST"}).exit_code, 0);
}

TEST_F(Deployed, StopKeepsAServiceStoppedAndStartBringsItBack) {
  auto stop = cli_->run({"spoke", "stop", "TST", "kas"});
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  Json kas;
  ASSERT_TRUE(wait_until(
      [&] {
        kas = cli_->service_status("TST", "kas");
        return kas["state"] == "stopped";
      },
      15s))
      << kas.dump();
  // A deliberate observation window, not a wait: for 1.5 s the stopped kas must stay stopped, not be
  // restarted (nor its stop counted as a crash), and leave its port free.
  EXPECT_TRUE(holds_for(
      [&] {
        kas = cli_->service_status("TST", "kas");
        return kas["state"] == "stopped" && kas["restarts"] == 0 && orch::port_free(cli_->port("TST", "kas"));
      },
      1500ms, 100ms))
      << kas.dump() << (orch::port_free(cli_->port("TST", "kas")) ? "" : " (the kas port is in use)");
  // Without its kas the api is degraded, not down.
  Json api;
  ASSERT_TRUE(wait_until(
      [&] {
        api = Json::parse(cli_->https_get(cli_->port("TST", "api"), "/health").second);
        return api["status"] == "degraded";
      },
      10s))
      << api.dump();
  EXPECT_EQ(api["checks"]["kas"]["status"], "down");
  auto start = cli_->run({"spoke", "start", "TST", "kas"});
  ASSERT_EQ(start.exit_code, 0) << start.output;
  EXPECT_TRUE(cli_->service_status("TST", "kas")["healthy"].get<bool>());
  EXPECT_EQ(cli_->run({"spoke", "stop", "TST", "nginx"}).exit_code, 64);
}

TEST_F(Deployed, OrchestrationStateIsRecordedAndConsistent) {
  Json st = cli_->run_json({"orch-db", "status", "--json"});
  std::map<std::string, std::string> states;
  for (const auto& i : st["instances"]) states[i["code"]] = i["state"];
  EXPECT_EQ(states["USA"], "COMPLETE") << st.dump(2);
  EXPECT_EQ(states["TST"], "COMPLETE") << st.dump(2);
  EXPECT_TRUE(st["openLocks"].empty()) << "deploy locks are released at the end";
  EXPECT_EQ(cli_->run({"orch-db", "validate"}).exit_code, 0);
  for (const auto& b : st["breakers"]) EXPECT_EQ(b["state"], "CLOSED") << b.dump();
}

TEST_F(Deployed, EveryPdpServesTheDeploymentBundleAndItsMetricsMoveWithTraffic) {
  Json st = cli_->run_json({"policy", "status", "--json"});
  ASSERT_EQ(st.size(), 2u) << st.dump(2);
  std::string revision = st[0]["servedRevision"];
  for (const auto& i : st) {
    EXPECT_TRUE(i["inStep"].get<bool>()) << i.dump(2);
    EXPECT_EQ(i["servedRevision"], revision) << "one deployment, one bundle";
    EXPECT_EQ(i["pdp"]["summary"]["trusted_issuers"]["count"], 2) << "USA and TST";
  }
  // A decision over TLS for a TST user at the hub: the spoke's issuer is trusted there.
  Json cfg = cli_->instance_config("TST");
  Json input = {{"subject",
                 {{"authenticated", true},
                  {"uniqueID", "testuser-tst-3"},
                  {"clearance", "SECRET"},
                  {"countryOfAffiliation", "USA"},
                  {"acpCOI", {"NATO"}},
                  {"issuer", cfg["issuer"]}}},
                {"action", {{"operation", "get"}}},
                {"resource",
                 {{"resourceId", "doc-USA-1"},
                  {"classification", "SECRET"},
                  {"releasabilityTo", {"USA"}},
                  {"COI", Json::array()},
                  {"encrypted", false},
                  {"creationDate", "2026-01-01T00:00:00Z"}}},
                {"context", {{"currentTime", "2026-06-01T00:00:00Z"}, {"requestId", "it-1"}}}};
  net::ClientConfig cc;
  cc.ca_file = cli_->ca_file().string();
  net::HttpsClient client(cc);
  auto metric = [&] {
    auto body = cli_->https_get(cli_->port("USA", "pdp"), "/metrics").second;
    const std::string series = "dive_v3_policy_evaluations_total{result=\"allow\"} ";
    auto pos = body.find(series);
    return pos == std::string::npos ? -1.0 : std::stod(body.substr(pos + series.size()));
  };
  double before = metric();
  net::ClientRequest r;
  r.method = "POST";
  r.url = "https://localhost:" + std::to_string(cli_->port("USA", "pdp")) + "/v1/data/dive/authz/decision";
  r.body = Json{{"input", input}}.dump();
  for (int i = 0; i < 3; ++i) {
    auto resp = client.send(r);
    ASSERT_EQ(resp.status, 200) << resp.body;
    EXPECT_EQ(resp.json()["result"]["allow"], true) << resp.body;
    EXPECT_EQ(resp.json()["result"]["evaluation_details"]["tenant"]["subject_tenant"], "TST");
  }
  EXPECT_EQ(metric() - before, 3);
  // Each decision reaches the audit trail in the hub's database (written off the request path,
  // docs/AUDIT.md).
  Json hub = cli_->instance_config("USA");
  Json secrets = Json::parse(read_file(cli_->home() / "instances" / "usa" / "secrets.json"));
  pqxx::connection db(store::pg_conninfo("127.0.0.1",
                                         static_cast<uint16_t>(hub["ports"]["postgres"].get<int>()), "dive",
                                         "dive", secrets["postgres_password"]));
  int logged = 0;
  EXPECT_TRUE(wait_until(
      [&] {
        pqxx::nontransaction tx(db);
        logged = tx.exec_params(
                       "SELECT count(*) FROM audit_records WHERE type = 'policy.decision' AND outcome = "
                       "'allow' AND (details::jsonb)->>'inputSha256' = $1",
                       sha256_hex(r.body))[0][0]
                     .as<int>();
        return logged >= 3;
      },
      10s))
      << logged;
  auto v = cli_->https_get(cli_->port("USA", "pdp"), "/v1/data/dive/policy_version");
  EXPECT_EQ(Json::parse(v.second)["result"]["bundle"], revision);
}

TEST_F(Deployed, ABadOperatorBundleIsRefusedAndTheActiveOneStays) {
  Json before = cli_->run_json({"policy", "status", "--json"});
  auto bad = cli_->home() / "bad-bundle.json";
  write_file_atomic(bad, R"({"trusted_issuers": {"https://x": {"tenant": 7}}})");
  auto r = cli_->run({"policy", "load", bad.string()});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "nothing published")) << r.output;
  Json after = cli_->run_json({"policy", "status", "--json"});
  EXPECT_EQ(after[0]["servedRevision"], before[0]["servedRevision"]);
  // A good one is published to the named instance only, then the deployment bundle comes back on reload.
  auto good = cli_->home() / "good-bundle.json";
  write_file_atomic(good, read_file(std::string(DIVE_SOURCE_DIR) + "/data/policy-bundle.json"));
  auto load = cli_->run({"policy", "load", good.string(), "TST"});
  ASSERT_EQ(load.exit_code, 0) << load.output;
  Json mixed = cli_->run_json({"policy", "status", "--json"});
  EXPECT_NE(mixed[1]["servedRevision"], before[1]["servedRevision"]);
  EXPECT_EQ(mixed[0]["servedRevision"], before[0]["servedRevision"]);
  ASSERT_EQ(cli_->run({"policy", "reload"}).exit_code, 0);
  Json back = cli_->run_json({"policy", "status", "--json"});
  EXPECT_EQ(back[1]["servedRevision"], before[1]["servedRevision"]);
}

TEST_F(Deployed, PortsCommandAndUsageErrors) {
  auto p = cli_->run({"ports", "tst", "--json"});
  EXPECT_EQ(p.exit_code, 0);
  Json j = Json::parse(p.output);
  EXPECT_EQ(j["offset"], 200);
  EXPECT_EQ(j["ports"]["api"], 4200 + cli_->shift());
  EXPECT_EQ(cli_->run({"ports", "FR"}).exit_code, 64);
  EXPECT_EQ(cli_->run({"ports", "F1A"}).exit_code, 64);
  EXPECT_EQ(cli_->run({"ports"}).exit_code, 64);
  EXPECT_EQ(cli_->run({"spoke", "deploy", "USA"}).exit_code, 64);
  EXPECT_EQ(cli_->run({"frobnicate"}).exit_code, 64);
  EXPECT_EQ(cli_->run({"--help"}).exit_code, 0);
  EXPECT_EQ(cli_->run({"hub", "--help"}).exit_code, 0);
}

TEST_F(Deployed, PreflightNamesAPortInUseAndItsHolder) {
  int port = cli_->port("DEV", "api");
  PortSquatter squat(port);
  auto r = cli_->run({"spoke", "deploy", "DEV", "--profile", "test"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_TRUE(contains(r.output, "port " + std::to_string(port))) << r.output;
  EXPECT_TRUE(contains(r.output, "pid " + std::to_string(::getpid()))) << r.output;
  EXPECT_FALSE(fs::exists(cli_->home() / "instances" / "dev" / "pg"))
      << "nothing is initialised after a failed preflight";
}

TEST_F(Deployed, AnInstanceWhoseOffsetCollidesWithARunningOneIsRefused) {
  // BRA and BEN are both ISO-formula codes with offset 93.
  auto bra = cli_->run({"spoke", "deploy", "BRA", "--profile", "test"});
  ASSERT_EQ(bra.exit_code, 0) << bra.output;
  auto ben = cli_->run({"spoke", "deploy", "BEN", "--profile", "test"});
  EXPECT_EQ(ben.exit_code, 1) << ben.output;
  EXPECT_TRUE(contains(ben.output, "offset 93")) << ben.output;
  EXPECT_TRUE(contains(ben.output, "running instance BRA")) << ben.output;
  EXPECT_TRUE(cli_->service_status("BRA", "api")["healthy"].get<bool>())
      << "the running instance is untouched";
  EXPECT_EQ(cli_->run({"nuke", "spoke", "BRA", "--confirm"}).exit_code, 0);
}

TEST_F(Deployed, RedeployOfARunningInstanceIsIdempotent) {
  auto r = cli_->run({"spoke", "deploy", "TST"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(cli_->service_status("TST", "api")["healthy"].get<bool>());
}

TEST_F(Deployed, ZzNukeRemovesOnlyWhatWasAskedAndFreesEveryPort) {
  auto refused = cli_->run({"nuke", "spoke", "TST"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_TRUE(fs::exists(cli_->home() / "instances" / "tst"));
  Json before = cli_->run_json({"spoke", "status", "TST", "--json"});
  std::vector<pid_t> pids;
  for (const auto& s : before["services"]) pids.push_back(s["pid"]);
  auto r = cli_->run({"nuke", "spoke", "TST", "--confirm"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(cli_->home() / "instances" / "tst"));
  for (pid_t p : pids) EXPECT_FALSE(pid_alive(p)) << p;
  for (const std::string svc : {"api", "idp", "pdp", "kas", "web", "postgres", "redis"})
    EXPECT_TRUE(wait_until([&] { return orch::port_free(cli_->port("TST", svc)); }, 5s)) << svc;
  EXPECT_TRUE(cli_->service_status("USA", "api")["healthy"].get<bool>()) << "the hub is untouched";
  Json st = cli_->run_json({"orch-db", "status", "--json"});
  for (const auto& i : st["instances"])
    if (i["code"] == "TST") {
      EXPECT_EQ(i["state"], "UNKNOWN");
    }
  Json hub = cli_->run_json({"hub", "status", "--json"});
  auto all = cli_->run({"nuke", "all", "--confirm"});
  ASSERT_EQ(all.exit_code, 0) << all.output;
  for (const auto& s : hub["services"]) EXPECT_FALSE(pid_alive(s["pid"].get<pid_t>())) << s.dump();
  for (const std::string svc : {"api", "idp", "pdp", "kas", "web", "postgres", "redis", "blacklist"})
    EXPECT_TRUE(wait_until([&] { return orch::port_free(cli_->port("USA", svc)); }, 5s)) << svc;
  EXPECT_FALSE(fs::exists(cli_->home() / "instances"));
}
