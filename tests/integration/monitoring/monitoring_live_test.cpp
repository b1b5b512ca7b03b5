// The monitoring stack live, on a test-profile hub (real PostgreSQL, Redis, services, Prometheus,
// Alertmanager, the monitor; everything over TLS): every target up, discovery following deploy, down and
// nuke, the metrics emitted by code in Prometheus, every dashboard query answered, and the alerts that must
// reach `./dive alerts` within 30 s of a failure and resolve within 30 s of the recovery — the pdp (its
// circuit breaker), the blacklist Redis (a warning, nothing critical) and PostgreSQL (one critical
// root-cause notification, what follows from it inhibited).
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <set>

#include "api_client.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"
#include "dive_cli.hpp"
#include "net/https_client.hpp"
#include "orchestrator/ports.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

int64_t now_ms();

// Prints (and records in the test's XML) how long a step took: the figures of docs/PERFORMANCE.md.
void report(const char* what, int64_t since_ms) {
  const int64_t ms = now_ms() - since_ms;
  std::printf("[ TIMING   ] %s after %lld ms\n", what, static_cast<long long>(ms));
  ::testing::Test::RecordProperty(what, static_cast<int>(ms));
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class LiveMonitoring : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cli_ = new DiveCli({"USA", "FRA"});
    auto r = cli_->run({"hub", "deploy", "--profile", "test"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto m = cli_->run({"monitoring", "up", "--profile", "test"});
    ASSERT_EQ(m.exit_code, 0) << m.output;
    api_ = new ApiClient(*cli_, "USA");
    net::ClientConfig c;
    c.ca_file = cli_->ca_file().string();
    http_ = new net::HttpsClient(c);
  }
  static void TearDownTestSuite() {
    delete http_;
    delete api_;
    delete cli_;  // nuke all: the instances and the monitoring stack, by recorded pids
  }

  static int prometheus_port() { return orch::monitoring_ports(cli_->shift()).prometheus; }

  // GET on Prometheus's API; the parsed body, or null when it does not answer.
  static Json prometheus(const std::string& path_and_query) {
    net::ClientRequest r;
    r.url = "https://localhost:" + std::to_string(prometheus_port()) + path_and_query;
    r.timeout = 5000ms;
    try {
      auto resp = http_->send(r);
      return resp.json();
    } catch (const std::exception&) {
      return Json();
    }
  }
  static Json query(const std::string& expr) {
    net::ClientRequest r;
    r.method = "POST";
    r.url = "https://localhost:" + std::to_string(prometheus_port()) + "/api/v1/query";
    r.headers.set("Content-Type", "application/x-www-form-urlencoded");
    std::string enc;
    for (unsigned char ch : expr) {
      if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
        enc += static_cast<char>(ch);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", ch);
        enc += buf;
      }
    }
    r.body = "query=" + enc;
    r.timeout = 5000ms;
    try {
      return http_->send(r).json();
    } catch (const std::exception& e) {
      return Json{{"status", "error"}, {"error", e.what()}};
    }
  }

  // `./dive alerts --json`: {active, suppressed, notifications, alertmanagerError}.
  static Json alerts() { return cli_->run_json({"alerts", "--json", "--all"}); }

  // Notifications received since `since_ms` holding an alert with this status that `match` accepts (a
  // notification's own status is "firing" while any alert of its group still fires).
  static std::vector<Json> delivered(const Json& all, int64_t since_ms, const std::string& status,
                                     const std::function<bool(const Json& labels)>& match) {
    std::vector<Json> out;
    for (const auto& n : all["notifications"]) {
      if (n.value("receivedAt", int64_t{0}) < since_ms) continue;
      for (const auto& a : n["alerts"])
        if (a.value("status", "") == status && match(a["labels"])) {
          out.push_back(n);
          break;
        }
    }
    return out;
  }

  static bool in_alertmanager(const Json& all, const std::string& list, const std::string& alertname,
                              const std::map<std::string, std::string>& labels = {}) {
    for (const auto& a : all[list]) {
      if (a["labels"].value("alertname", "") != alertname) continue;
      bool ok = true;
      for (const auto& [k, v] : labels) ok = ok && a["labels"].value(k, "") == v;
      if (ok) return true;
    }
    return false;
  }

  // Waits (bounded) until the previous scenario is over: nothing critical active in Alertmanager, and every
  // critical alert notified as firing since notified as resolved (its group is done and gone, so a new
  // critical alert starts a new group, which waits group_wait before its first notification).
  static void settle() {
    Json a;
    ASSERT_TRUE(wait_until(
        [&] {
          a = alerts();
          for (const auto& x : a["active"])
            if (x["labels"].value("severity", "") == "critical") return false;
          std::map<std::string, std::string> last;  // fingerprint -> last notified status
          for (const auto& n : a["notifications"])
            for (const auto& x : n["alerts"])
              if (x["labels"].value("severity", "") == "critical")
                last[x.value("fingerprint", "")] = x.value("status", "");
          for (const auto& [fp, status] : last)
            if (status == "firing") return false;
          return true;
        },
        120s, 1s))
        << a.dump(2);
  }

  static DiveCli* cli_;
  static ApiClient* api_;
  static net::HttpsClient* http_;
};
DiveCli* LiveMonitoring::cli_ = nullptr;
ApiClient* LiveMonitoring::api_ = nullptr;
net::HttpsClient* LiveMonitoring::http_ = nullptr;

}  // namespace

TEST_F(LiveMonitoring, TheStackIsSupervisedAndEveryTargetIsUpWithItsLabels) {
  Json st = cli_->run_json({"monitoring", "status", "--json"});
  ASSERT_TRUE(st.value("running", false)) << st.dump(2);
  std::set<std::string> names;
  for (const auto& s : st["services"]) {
    names.insert(s["name"].get<std::string>());
    EXPECT_EQ(s["state"], "running") << s.dump();
    EXPECT_TRUE(s.value("healthy", false)) << s.dump();
  }
  EXPECT_TRUE(names.count("prometheus") && names.count("alertmanager") && names.count("monitor"));

  const std::map<std::string, int> expected{{"dive", 5},    {"postgres", 1},   {"redis", 2},
                                            {"monitor", 1}, {"prometheus", 1}, {"alertmanager", 1}};
  Json last;
  bool all_up = wait_until(
      [&] {
        last = prometheus("/api/v1/targets?state=active");
        std::map<std::string, int> up;
        for (const auto& t : last["data"]["activeTargets"]) {
          if (t.value("health", "") != "up") return false;
          up[t["labels"].value("job", "")]++;
        }
        return up == expected;
      },
      60s, 500ms);
  ASSERT_TRUE(all_up) << last.dump(2);
  for (const auto& t : last["data"]["activeTargets"]) {
    const Json& l = t["labels"];
    EXPECT_FALSE(l.value("component", "").empty()) << l.dump();
    if (l["job"] == "dive" || l["job"] == "postgres" || l["job"] == "redis") {
      EXPECT_EQ(l.value("instance_code", ""), "USA") << l.dump();
      EXPECT_EQ(t.value("scrapeUrl", "").rfind("https://", 0), 0u) << t.dump();
    }
  }
}

TEST_F(LiveMonitoring, DeployDownAndNukeChangeTheTargetsWithoutRestartingPrometheus) {
  auto prometheus_pid = [] {
    const Json st = cli_->run_json({"monitoring", "status", "--json"});  // named: not a temporary's member
    for (const auto& s : st["services"])
      if (s["name"] == "prometheus") return s["pid"].get<int>();
    return -1;
  };
  const int pid = prometheus_pid();
  ASSERT_GT(pid, 0);
  auto fra_targets = [] {
    int n = 0, up = 0;
    const Json targets = prometheus("/api/v1/targets?state=active");
    for (const auto& t : targets["data"]["activeTargets"])
      if (t["labels"].value("instance_code", "") == "FRA") {
        ++n;
        up += t.value("health", "") == "up";
      }
    return std::pair{n, up};
  };
  auto r = cli_->run({"spoke", "deploy", "FRA", "--profile", "test", "--seed", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(wait_until(
      [&] {
        return fra_targets() == std::pair{7, 7};
      },
      60s, 500ms))
      << fra_targets().first << " targets, " << fra_targets().second << " up";
  // Stopped on purpose: no longer scraped (no alert says it is down); back with up.
  ASSERT_EQ(cli_->run({"spoke", "down", "FRA"}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return fra_targets().first == 0; }, 60s, 500ms));
  EXPECT_FALSE(fs::exists(cli_->home() / "monitoring" / "targets" / "fra.dive.json"));
  ASSERT_EQ(cli_->run({"spoke", "up", "FRA"}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return fra_targets() == std::pair{7, 7}; }, 60s, 500ms));
  auto nuke = cli_->run({"nuke", "spoke", "FRA", "--confirm"});
  ASSERT_EQ(nuke.exit_code, 0) << nuke.output;
  EXPECT_TRUE(wait_until([&] { return fra_targets().first == 0; }, 60s, 500ms));
  EXPECT_EQ(prometheus_pid(), pid) << "file-based discovery: no restart";
}

TEST_F(LiveMonitoring, TheMetricsEmittedByCodeReachPrometheus) {
  const std::vector<std::string> exprs{
      R"(dive_v3_db_connections_max{component="api",db_type="instance"} > 0)",
      R"(dive_v3_db_connections_waiting{component="api"})",
      R"(dive_v3_redis_connections_max{component="api",name="blacklist"} > 0)",
      R"(dive_v3_redis_connections_idle{component="api"})",
      R"(dive_v3_certificate_expiry_timestamp_seconds{component="kas",certificate="server"} > time())",
      R"(dive_v3_certificate_expiry_timestamp_seconds{component="kas",certificate="ca"} > time())",
      R"(dive_v3_build_info{component="pdp"} == 1)",
      R"(dive_v3_health_status{component="api",instance_code="USA"} == 0)",
      R"(dive_v3_health_check_up{component="api",check="database"} == 1)",
      R"(dive_v3_process_max_fds{component="idp"} > 0)",
      R"(dive_v3_process_memory_limit_bytes{component="idp"} > 0)",
      R"(dive_v3_policy_bundle_loaded{component="pdp"} == 1)",
      R"(dive_v3_policy_bundle_builtin{component="pdp"} == 0)",
      R"(time() - dive_v3_policy_bundle_last_check_timestamp_seconds{component="pdp"} < 60)",
      R"(dive_v3_audit_events_dropped_total{component="pdp",service="pdp"})",
      R"(dive_v3_audit_events_written_total{component="api",type="admin.deploy"} >= 0 or dive_v3_audit_queue_depth{component="api"} >= 0)",
      R"(dive_v3_revocation_mirror_max_staleness_seconds{component="api"} > 0)",
      R"(dive_v3_supervisor_up{instance_code="USA"} == 1)",
      R"(dive_v3_supervised_up{instance_code="USA",component="postgres-exporter"} == 1)",
      R"(dive_v3_supervised_wanted{instance_code="USA",component="pdp"} == 1)",
      R"(dive_v3_supervised_restarts_total{instance_code="USA",component="api"})",
      R"(dive_v3_deployment_last_success{instance_code="USA"} == 1)",
      R"(dive_v3_deployment_state{instance_code="USA",state="COMPLETE"} == 1)",
      R"(dive_v3_deployment_last_duration_seconds{instance_code="USA"} > 0)",
      R"(dive_v3_orchestration_breaker_state{operation="deploy",instance_code="USA"} == 0)",
      R"(dive_v3_orchestration_db_up == 1)",
      R"(dive_v3_alert_notifications_total{receiver="dive-critical"})",
      R"(pg_up{instance_code="USA"} == 1)",
      R"(redis_up{component="redis-blacklist"} == 1)",
  };
  std::vector<std::string> missing;
  bool all = wait_until(
      [&] {
        missing.clear();
        for (const auto& e : exprs) {
          Json r = query(e);
          if (r.value("status", "") != "success" || r["data"]["result"].empty()) missing.push_back(e);
        }
        return missing.empty();
      },
      60s, 1s);
  EXPECT_TRUE(all) << "no data for:\n" << join(missing, "\n");
}

TEST_F(LiveMonitoring, EveryDashboardQueryEvaluatesAndNearlyAllReturnDataUnderLightTraffic) {
  // Light traffic of every kind the dashboards show: sign-ins (one failed), a list, reads, an object, a
  // key request, a federated search, a refused token.
  const std::string token = api_->token("testuser-usa-5", true);
  ASSERT_FALSE(token.empty());
  auto list = api_->call("api", "GET", "/api/resources?limit=20", token);
  ASSERT_EQ(list.status, 200) << list.body.dump();
  std::vector<std::string> ids;
  for (const auto& d : list.body.value("resources", Json::array())) ids.push_back(d.value("resourceId", ""));
  ASSERT_FALSE(ids.empty()) << list.body.dump();
  for (int round = 0; round < 3; ++round)
    for (const auto& id : ids) api_->call("api", "GET", "/api/resources/" + id, token);
  api_->call("api", "GET", "/api/resources/" + ids.front() + "/ztdf", token);
  api_->call("api", "POST", "/api/resources/" + ids.front() + "/key", token, Json::object());
  api_->call("api", "GET", "/api/resources/federated-search?limit=5", token);  // federation.json
  EXPECT_EQ(api_->call("api", "GET", "/api/resources", "not-a-token").status, 401);
  net::ClientRequest bad;
  bad.method = "POST";
  bad.url = api_->config()["issuer"].get<std::string>() + "/protocol/openid-connect/token";
  bad.headers.set("Content-Type", "application/x-www-form-urlencoded");
  bad.body = "grant_type=password&client_id=dive-cli&username=testuser-usa-2&password=wrong-password";
  EXPECT_EQ(http_->send(bad).status, 400);  // invalid_grant
  // Until Prometheus has scraped it twice (rates need two samples).
  ASSERT_TRUE(wait_until(
      [] {
        Json r =
            query(R"(sum(increase(dive_v3_authorization_decisions_total{instance_code="USA"}[1m])) > 0)");
        return r.value("status", "") == "success" && !r["data"]["result"].empty();
      },
      30s, 500ms));

  int total = 0;
  std::vector<std::string> errors, empty;
  for (const auto& entry : fs::directory_iterator(fs::path(DIVE_SOURCE_DIR) / "monitoring" / "dashboards")) {
    if (entry.path().extension() != ".json") continue;
    Json dash = Json::parse(read_file(entry.path()));
    for (const auto& panel : dash.value("panels", Json::array())) {
      for (const auto& t : panel.value("targets", Json::array())) {
        std::string expr = t.value("expr", "");
        if (expr.empty()) continue;
        ++total;
        expr = replace_all(expr, "$__rate_interval", "1m");
        expr = replace_all(expr, "$instance_code", ".*");
        expr = replace_all(expr, "$component", ".*");
        const std::string where = entry.path().filename().string() + " / " + panel.value("title", "?");
        Json r = query(expr);
        if (r.value("status", "") != "success")
          errors.push_back(where + ": " + r.value("error", "no answer"));
        else if (r["data"]["result"].empty())
          empty.push_back(where);
      }
    }
  }
  ASSERT_GE(total, 100) << "the dashboards hold at least 100 queries";
  EXPECT_TRUE(errors.empty()) << join(errors, "\n");
  // Nearly all: only panels that show an incident (firing alerts, ...) may be empty on a healthy hub.
  EXPECT_LE(empty.size(), static_cast<size_t>(total / 20))
      << empty.size() << " of " << total << " queries without data:\n"
      << join(empty, "\n");
}

TEST_F(LiveMonitoring, AStoppedPdpFiresCircuitBreakerOpenWithin30sAndItResolvesWithin30s) {
  settle();
  const int64_t stopped = now_ms();
  ASSERT_EQ(cli_->run({"hub", "stop", "pdp"}).exit_code, 0);
  auto pdp_breaker = [](const Json& l) {
    return l.value("alertname", "") == "CircuitBreakerOpen" && l.value("service", "") == "pdp" &&
           l.value("component", "") == "api" && l.value("severity", "") == "critical";
  };
  Json a;
  EXPECT_TRUE(wait_until(
      [&] {
        a = alerts();
        return !delivered(a, stopped, "firing", pdp_breaker).empty() &&
               in_alertmanager(a, "active", "CircuitBreakerOpen", {{"service", "pdp"}, {"component", "api"}});
      },
      30s, 500ms))
      << a.dump(2);
  report("pdp stopped: CircuitBreakerOpen delivered", stopped);
  // The operator's view says what it is and where the runbook is.
  auto human = cli_->run({"alerts"});
  EXPECT_NE(human.output.find("CircuitBreakerOpen"), std::string::npos) << human.output;
  EXPECT_NE(human.output.find("runbook: docs/RUNBOOKS.md#circuitbreakeropen"), std::string::npos)
      << human.output;

  const int64_t started = now_ms();
  ASSERT_EQ(cli_->run({"hub", "start", "pdp"}).exit_code, 0);
  EXPECT_TRUE(wait_until(
      [&] {
        a = alerts();
        return !delivered(a, started, "resolved", pdp_breaker).empty();
      },
      30s, 500ms))
      << a.dump(2);
  report("pdp started: CircuitBreakerOpen resolved", started);
}

TEST_F(LiveMonitoring, AStoppedBlacklistRedisFiresItsWarningAndNothingCritical) {
  settle();
  const int64_t stopped = now_ms();
  ASSERT_EQ(cli_->run({"hub", "stop", "redis-blacklist"}).exit_code, 0);
  auto is = [](const std::string& name) {
    return [name](const Json& l) { return l.value("alertname", "") == name; };
  };
  Json a;
  EXPECT_TRUE(wait_until(
      [&] { return !delivered(a = alerts(), stopped, "firing", is("BlacklistRedisDown")).empty(); }, 30s,
      500ms))
      << a.dump(2);
  report("blacklist stopped: BlacklistRedisDown delivered", stopped);
  // What follows from it has been evaluated too (the services' blacklist breakers opened) and is inhibited.
  EXPECT_TRUE(wait_until(
      [&] {
        a = alerts();
        return in_alertmanager(a, "suppressed", "CircuitBreakerOpen", {{"service", "blacklist_redis"}});
      },
      30s, 500ms))
      << a.dump(2);
  for (const char* list : {"active", "suppressed"}) {
    for (const auto& x : a[list]) {
      EXPECT_NE(x["labels"].value("severity", ""), "critical") << x.dump();
    }
  }
  // Nothing critical fired since the stop (a scenario before may still have its resolution delivered).
  for (const auto& n :
       delivered(a, stopped, "firing", [](const Json& l) { return l.value("severity", "") == "critical"; }))
    ADD_FAILURE() << "a critical alert fired: " << n.dump(2);

  const int64_t started = now_ms();
  ASSERT_EQ(cli_->run({"hub", "start", "redis-blacklist"}).exit_code, 0);
  EXPECT_TRUE(wait_until(
      [&] { return !delivered(a = alerts(), started, "resolved", is("BlacklistRedisDown")).empty(); }, 30s,
      500ms))
      << a.dump(2);
  report("blacklist started: BlacklistRedisDown resolved", started);
}

TEST_F(LiveMonitoring, AStoppedPostgreSQLSendsOneCriticalRootCauseNotification) {
  settle();
  const int64_t stopped = now_ms();
  ASSERT_EQ(cli_->run({"hub", "stop", "postgres"}).exit_code, 0);
  Json a;
  EXPECT_TRUE(wait_until(
      [&] {
        return !delivered(a = alerts(), stopped, "firing", [](const Json& l) {
                  return l.value("alertname", "") == "PostgreSQLDown";
                }).empty();
      },
      30s, 500ms))
      << a.dump(2);
  report("postgres stopped: PostgreSQLDown delivered", stopped);
  // The api's unhealthy verdict follows from it: evaluated, firing in Alertmanager, inhibited.
  EXPECT_TRUE(wait_until([&] { return in_alertmanager(a = alerts(), "suppressed", "InstanceUnhealthy"); },
                         30s, 500ms))
      << a.dump(2);
  // Every critical alert notified as firing since the stop is PostgreSQLDown: one root cause.
  int critical = 0;
  for (const auto& n : a["notifications"]) {
    if (n.value("receivedAt", int64_t{0}) < stopped) continue;
    for (const auto& x : n["alerts"]) {
      if (x.value("status", "") != "firing" || x["labels"].value("severity", "") != "critical") continue;
      ++critical;
      EXPECT_EQ(x["labels"].value("alertname", ""), "PostgreSQLDown") << n.dump(2);
    }
  }
  EXPECT_GE(critical, 1);
  EXPECT_FALSE(in_alertmanager(a, "active", "InstanceUnhealthy"));

  const int64_t started = now_ms();
  ASSERT_EQ(cli_->run({"hub", "start", "postgres"}).exit_code, 0);
  EXPECT_TRUE(wait_until(
      [&] {
        return !delivered(a = alerts(), started, "resolved", [](const Json& l) {
                  return l.value("alertname", "") == "PostgreSQLDown";
                }).empty();
      },
      30s, 500ms))
      << a.dump(2);
  report("postgres started: PostgreSQLDown resolved", started);
}

TEST_F(LiveMonitoring, DownStopsTheStackKeepsItsDataAndUpBringsItBack) {
  const auto log = cli_->home() / "monitoring" / "notifications.jsonl";
  const auto before = read_file(log);
  std::vector<int> pids;
  const Json st = cli_->run_json({"monitoring", "status", "--json"});
  for (const auto& s : st["services"])
    if (!s["pid"].is_null()) pids.push_back(s["pid"]);
  ASSERT_EQ(pids.size(), 3u);
  auto down = cli_->run({"monitoring", "down"});
  ASSERT_EQ(down.exit_code, 0) << down.output;
  EXPECT_FALSE(cli_->run_json({"monitoring", "status", "--json"}).value("running", true));
  for (int pid : pids) EXPECT_FALSE(pid_alive(pid)) << pid;
  // Kept: what was received before is still there (a notification may still arrive while the stack stops).
  const auto after_down = read_file(log);
  EXPECT_EQ(after_down.substr(0, before.size()), before);
  auto up = cli_->run({"monitoring", "up"});
  ASSERT_EQ(up.exit_code, 0) << up.output;
  EXPECT_EQ(read_file(log).substr(0, after_down.size()), after_down);
  EXPECT_NE(up.output.find("profile test"), std::string::npos) << up.output;  // remembered
  EXPECT_TRUE(cli_->run_json({"monitoring", "status", "--json"}).value("running", false));
}

TEST_F(LiveMonitoring, ABadOperatorReceiverIsRefusedAndTheRunningStackKeepsItsConfiguration) {
  const auto settings = cli_->home() / "monitoring" / "settings.json";
  const auto am = cli_->home() / "monitoring" / "alertmanager.yml";
  const std::string good = read_file(settings), running = read_file(am);
  Json bad = Json::parse(good);
  // An email receiver without a smarthost (none set globally either): Alertmanager would refuse it.
  bad["receivers"] = Json::parse(R"([{"name": "oncall", "email_configs": [{"to": "oncall@example.org"}]}])");
  write_file_atomic(settings, bad.dump(2), 0600);
  auto r = cli_->run({"monitoring", "up"});
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("smarthost"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("settings.json"), std::string::npos) << r.output;
  EXPECT_EQ(read_file(am), running);
  EXPECT_FALSE(fs::exists(am.string() + ".new"));
  EXPECT_TRUE(cli_->run_json({"monitoring", "status", "--json"}).value("running", false));
  write_file_atomic(settings, good, 0600);
  EXPECT_EQ(cli_->run({"monitoring", "up"}).exit_code, 0);
}
