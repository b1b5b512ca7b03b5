// The generated Alertmanager configuration in a real Alertmanager (Debian's): alerts are posted to its API
// as Prometheus would, and what it inhibits is read back. Each case is a cause with what follows from it,
// and a bystander that must stay active.
#include <gtest/gtest.h>

#include <thread>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "monitoring/config.hpp"
#include "monitoring/yaml.hpp"
#include "net/https_client.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

using Alert = std::map<std::string, std::string>;  // labels

class RealAlertmanager : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("dive-am");
    monitoring::StackSettings s;
    s.test_profile = true;
    s.monitor_port = free_port();  // nobody listens: deliveries fail, which is not what this tests
    Json cfg = monitoring::alertmanager_config(
        monitoring::parse_yaml(read_file(std::string(DIVE_SOURCE_DIR) + "/monitoring/alertmanager.yml")), s);
    write_file_atomic(dir_->path() / "alertmanager.yml", monitoring::to_yaml(cfg), 0644);
    // The webhook's CA (Alertmanager loads it with the configuration): any certificate will do here.
    ensure_dir(dir_->path() / "certs", 0755);
    auto ca =
        run_capture({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                     "-nodes", "-keyout", (dir_->path() / "certs" / "ca.key").string(), "-out",
                     (dir_->path() / "certs" / "ca.pem").string(), "-days", "2", "-subj", "/CN=dive-test-ca"},
                    30s);
    ASSERT_EQ(ca.exit_code, 0) << ca.output;
    port_ = free_port();
    SpawnOptions o;
    o.argv = {"prometheus-alertmanager",
              "--config.file=" + (dir_->path() / "alertmanager.yml").string(),
              "--storage.path=" + (dir_->path() / "data").string(),
              "--web.listen-address=127.0.0.1:" + std::to_string(port_),
              "--cluster.listen-address=",
              "--log.level=warn"};
    o.stdout_path = (dir_->path() / "alertmanager.log").string();
    pid_ = spawn(o);
    http_ = new net::HttpsClient(net::ClientConfig{});
    ASSERT_TRUE(wait_until([] { return get("/-/ready").status == 200; }, 30s))
        << read_file(dir_->path() / "alertmanager.log");
  }
  static void TearDownTestSuite() {
    terminate_pid(pid_, 10s);
    delete http_;
    delete dir_;
  }

  static net::ClientResponse get(const std::string& path) {
    net::ClientRequest r;
    r.url = "http://127.0.0.1:" + std::to_string(port_) + path;
    r.timeout = 2000ms;
    try {
      return http_->send(r);
    } catch (const std::exception&) {
      return net::ClientResponse{};
    }
  }

  // Posts firing alerts (as Prometheus does) and returns each one's state by a key of its labels.
  // Posts the alerts and reads their states once every alert is there and every one of `inhibited_keys` is
  // suppressed (Alertmanager's inhibitor marks alerts asynchronously, shortly after they arrive); after 10 s
  // the states as they are, for the test's assertions to explain.
  static std::map<std::string, Json> post_and_read(const std::vector<Alert>& alerts,
                                                   const std::vector<std::string>& inhibited_keys) {
    Json body = Json::array();
    for (const auto& a : alerts) {
      Json labels = Json::object();
      for (const auto& [k, v] : a) labels[k] = v;
      body.push_back(Json{{"labels", labels}, {"annotations", {{"summary", "test"}}}});
    }
    net::ClientRequest r;
    r.method = "POST";
    r.url = "http://127.0.0.1:" + std::to_string(port_) + "/api/v2/alerts";
    r.headers.set("Content-Type", "application/json");
    r.body = body.dump();
    EXPECT_EQ(http_->send(r).status, 200);
    std::map<std::string, Json> states;
    EXPECT_TRUE(wait_until(
        [&] {
          states.clear();
          auto resp = get("/api/v2/alerts");
          if (resp.status != 200) return false;
          for (const auto& a : resp.json()) states[key(a["labels"])] = a["status"];
          for (const auto& a : alerts) {
            Json labels = Json::object();
            for (const auto& [k, v] : a) labels[k] = v;
            if (!states.count(key(labels))) return false;
          }
          for (const auto& k : inhibited_keys)
            if (!inhibited(states, k)) return false;
          return true;
        },
        10s));
    return states;
  }

  static std::string key(const Json& labels) {
    return labels.value("alertname", "") + "/" + labels.value("instance_code", "") + "/" +
           labels.value("component", "") + "/" + labels.value("service", "") + "/" +
           labels.value("severity", "");
  }
  static bool inhibited(const std::map<std::string, Json>& st, const std::string& k) {
    auto it = st.find(k);
    return it != st.end() && it->second.value("state", "") == "suppressed" &&
           !it->second.value("inhibitedBy", Json::array()).empty();
  }
  static bool active(const std::map<std::string, Json>& st, const std::string& k) {
    auto it = st.find(k);
    return it != st.end() && it->second.value("state", "") == "active";
  }

  static TempDir* dir_;
  static int port_;
  static pid_t pid_;
  static net::HttpsClient* http_;
};
TempDir* RealAlertmanager::dir_ = nullptr;
int RealAlertmanager::port_ = 0;
pid_t RealAlertmanager::pid_ = -1;
net::HttpsClient* RealAlertmanager::http_ = nullptr;

}  // namespace

TEST_F(RealAlertmanager, PostgreSQLDownSilencesWhatFollowsFromItOnItsInstanceOnly) {
  auto st = post_and_read(
      {
          {{"alertname", "PostgreSQLDown"},
           {"severity", "critical"},
           {"instance_code", "AAA"},
           {"component", "postgres"}},
          {{"alertname", "InstanceUnhealthy"},
           {"severity", "critical"},
           {"instance_code", "AAA"},
           {"component", "api"}},
          {{"alertname", "CircuitBreakerOpen"},
           {"severity", "critical"},
           {"instance_code", "AAA"},
           {"component", "kas"},
           {"service", "database"}},
          {{"alertname", "DBConnectionErrors"},
           {"severity", "warning"},
           {"instance_code", "AAA"},
           {"component", "idp"}},
          // Not caused by the database: the pdp breaker, and the other instance's verdict.
          {{"alertname", "CircuitBreakerOpen"},
           {"severity", "critical"},
           {"instance_code", "AAA"},
           {"component", "api"},
           {"service", "pdp"}},
          {{"alertname", "InstanceUnhealthy"},
           {"severity", "critical"},
           {"instance_code", "AAB"},
           {"component", "api"}},
      },
      {"InstanceUnhealthy/AAA/api//critical", "CircuitBreakerOpen/AAA/kas/database/critical",
       "DBConnectionErrors/AAA/idp//warning"});
  EXPECT_TRUE(active(st, "PostgreSQLDown/AAA/postgres//critical"));
  EXPECT_TRUE(inhibited(st, "InstanceUnhealthy/AAA/api//critical"));
  EXPECT_TRUE(inhibited(st, "CircuitBreakerOpen/AAA/kas/database/critical"));
  EXPECT_TRUE(inhibited(st, "DBConnectionErrors/AAA/idp//warning"));
  EXPECT_TRUE(active(st, "CircuitBreakerOpen/AAA/api/pdp/critical"));
  EXPECT_TRUE(active(st, "InstanceUnhealthy/AAB/api//critical"));
}

TEST_F(RealAlertmanager, TheSharedBlacklistDownSilencesItsBreakersOnEveryInstance) {
  auto st = post_and_read(
      {
          {{"alertname", "BlacklistRedisDown"},
           {"severity", "warning"},
           {"instance_code", "BAA"},
           {"component", "redis-blacklist"}},
          {{"alertname", "CircuitBreakerOpen"},
           {"severity", "warning"},
           {"instance_code", "BAB"},
           {"component", "api"},
           {"service", "blacklist_redis"}},
          {{"alertname", "InstanceDegraded"},
           {"severity", "warning"},
           {"instance_code", "BAB"},
           {"component", "api"}},
          {{"alertname", "CircuitBreakerOpen"},
           {"severity", "warning"},
           {"instance_code", "BAB"},
           {"component", "api"},
           {"service", "idp"}},
      },
      {"CircuitBreakerOpen/BAB/api/blacklist_redis/warning", "InstanceDegraded/BAB/api//warning"});
  EXPECT_TRUE(active(st, "BlacklistRedisDown/BAA/redis-blacklist//warning"));
  EXPECT_TRUE(inhibited(st, "CircuitBreakerOpen/BAB/api/blacklist_redis/warning"));
  EXPECT_TRUE(inhibited(st, "InstanceDegraded/BAB/api//warning"));
  EXPECT_TRUE(active(st, "CircuitBreakerOpen/BAB/api/idp/warning"));
}

TEST_F(RealAlertmanager, AGoneSupervisorIsTheOneAlertOfItsInstance) {
  auto st = post_and_read(
      {
          {{"alertname", "SupervisorDown"},
           {"severity", "critical"},
           {"instance_code", "CAA"},
           {"component", "monitor"}},
          {{"alertname", "InstanceDown"}, {"severity", "critical"}, {"instance_code", "CAA"}},
          {{"alertname", "DiveServiceDown"},
           {"severity", "critical"},
           {"instance_code", "CAA"},
           {"component", "kas"}},
          {{"alertname", "DiveServiceDown"},
           {"severity", "critical"},
           {"instance_code", "CAB"},
           {"component", "kas"}},
      },
      {"InstanceDown/CAA///critical", "DiveServiceDown/CAA/kas//critical"});
  EXPECT_TRUE(active(st, "SupervisorDown/CAA/monitor//critical"));
  EXPECT_TRUE(inhibited(st, "InstanceDown/CAA///critical"));
  EXPECT_TRUE(inhibited(st, "DiveServiceDown/CAA/kas//critical"));
  EXPECT_TRUE(active(st, "DiveServiceDown/CAB/kas//critical"));
}

TEST_F(RealAlertmanager, AStoppedPdpKeepsItsClientsBreakerAlertsButSilencesTheVerdict) {
  auto st = post_and_read(
      {
          {{"alertname", "DiveServiceDown"},
           {"severity", "critical"},
           {"instance_code", "DAA"},
           {"component", "pdp"}},
          {{"alertname", "CircuitBreakerOpen"},
           {"severity", "critical"},
           {"instance_code", "DAA"},
           {"component", "api"},
           {"service", "pdp"}},
          {{"alertname", "InstanceUnhealthy"},
           {"severity", "critical"},
           {"instance_code", "DAA"},
           {"component", "api"}},
      },
      {"InstanceUnhealthy/DAA/api//critical"});
  EXPECT_TRUE(active(st, "DiveServiceDown/DAA/pdp//critical"));
  EXPECT_TRUE(active(st, "CircuitBreakerOpen/DAA/api/pdp/critical"));
  EXPECT_TRUE(inhibited(st, "InstanceUnhealthy/DAA/api//critical"));
}

TEST_F(RealAlertmanager, ACriticalSilencesTheWarningOfTheSameAlertAboutTheSameThing) {
  auto st = post_and_read(
      {
          {{"alertname", "CertificateExpiring"},
           {"severity", "critical"},
           {"instance_code", "EAA"},
           {"component", "idp"},
           {"certificate", "server"}},
          {{"alertname", "CertificateExpiring"},
           {"severity", "warning"},
           {"instance_code", "EAA"},
           {"component", "idp"},
           {"certificate", "server"}},
          {{"alertname", "CertificateExpiring"},
           {"severity", "warning"},
           {"instance_code", "EAA"},
           {"component", "kas"},
           {"certificate", "server"}},
      },
      {"CertificateExpiring/EAA/idp//warning"});
  EXPECT_TRUE(active(st, "CertificateExpiring/EAA/idp//critical"));
  EXPECT_TRUE(inhibited(st, "CertificateExpiring/EAA/idp//warning"));
  EXPECT_TRUE(active(st, "CertificateExpiring/EAA/kas//warning"));
}
