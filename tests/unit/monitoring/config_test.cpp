// The generated configuration: prometheus.yml, alertmanager.yml (checked by amtool too, routing included)
// and the discovery targets of an instance.
#include <gtest/gtest.h>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "monitoring/config.hpp"
#include "monitoring/yaml.hpp"

using namespace dive;
using namespace dive::monitoring;
using namespace std::chrono_literals;

namespace {
Json repo_alertmanager() {
  return parse_yaml(read_file(std::string(DIVE_SOURCE_DIR) + "/monitoring/alertmanager.yml"));
}

Json job(const Json& cfg, const std::string& name) {
  for (const auto& j : cfg["scrape_configs"])
    if (j["job_name"] == name) return j;
  return Json();
}

// amtool on a generated configuration: `check-config`, or `config routes test` with labels.
RunResult amtool(const Json& config, std::vector<std::string> args) {
  TempDir dir;
  write_file_atomic(dir.path() / "alertmanager.yml", to_yaml(config), 0644);
  std::vector<std::string> argv{"amtool"};
  if (args.empty()) {
    argv.insert(argv.end(), {"check-config", (dir.path() / "alertmanager.yml").string()});
  } else {
    argv.insert(argv.end(),
                {"config", "routes", "test", "--config.file=" + (dir.path() / "alertmanager.yml").string()});
    argv.insert(argv.end(), args.begin(), args.end());
  }
  return run_capture(argv, 30s);
}
}  // namespace

TEST(PrometheusConfig, ScrapesEveryJobOverTlsFromTheDiscoveryFiles) {
  StackSettings s;
  s.prometheus_port = 19090;
  s.alertmanager_port = 19093;
  s.monitor_port = 19095;
  Json cfg = prometheus_config(s);
  EXPECT_EQ(cfg["global"]["scrape_interval"], "15s");
  EXPECT_EQ(cfg["rule_files"][0], "rules/*.yml");
  EXPECT_EQ(cfg["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0], "localhost:19093");
  EXPECT_EQ(cfg["alerting"]["alertmanagers"][0]["scheme"], "https");
  for (const char* j : {"dive", "postgres", "redis"}) {
    Json sc = job(cfg, j);
    ASSERT_FALSE(sc.is_null()) << j;
    EXPECT_EQ(sc["scheme"], "https");
    EXPECT_EQ(sc["tls_config"]["ca_file"], "certs/ca.pem");
    EXPECT_EQ(sc["file_sd_configs"][0]["files"][0], std::string("targets/*.") + j + ".json");
  }
  EXPECT_EQ(job(cfg, "monitor")["honor_labels"], true);  // its series name the instance they are about
  EXPECT_EQ(job(cfg, "monitor")["static_configs"][0]["targets"][0], "localhost:19095");
  EXPECT_EQ(job(cfg, "prometheus")["static_configs"][0]["labels"]["component"], "prometheus");
  EXPECT_FALSE(job(cfg, "prometheus").contains("honor_labels"));
  EXPECT_FALSE(job(cfg, "postgres").contains("scrape_interval"));
}

TEST(PrometheusConfig, TheTestProfileScrapesEverySecondButThePostgresExporterEveryTwo) {
  StackSettings s;
  s.test_profile = true;
  Json cfg = prometheus_config(s);
  EXPECT_EQ(cfg["global"]["scrape_interval"], "1s");
  EXPECT_EQ(cfg["global"]["evaluation_interval"], "1s");
  EXPECT_EQ(cfg["global"]["scrape_timeout"], "1s");
  EXPECT_EQ(job(cfg, "postgres")["scrape_interval"], "2s");
  EXPECT_EQ(job(cfg, "postgres")["scrape_timeout"], "2s");
  s.operator_settings = {{"scrape_interval", "30s"}, {"scrape_timeout", "20s"}};
  s.test_profile = false;
  EXPECT_EQ(prometheus_config(s)["global"]["scrape_interval"], "30s");
}

TEST(AlertmanagerConfig, PointsTheWebhookAtThisHomesMonitorAndShortensTheTestTimings) {
  StackSettings s;
  s.monitor_port = 29095;
  s.test_profile = true;
  Json am = alertmanager_config(repo_alertmanager(), s);
  int webhooks = 0;
  for (const auto& r : am["receivers"])
    for (const auto& w : r.value("webhook_configs", Json::array())) {
      EXPECT_EQ(w["url"], "https://localhost:29095/alerts/webhook");
      EXPECT_EQ(w["http_config"]["tls_config"]["ca_file"], "certs/ca.pem");
      ++webhooks;
    }
  EXPECT_EQ(webhooks, 4);
  EXPECT_EQ(am["route"]["group_wait"], "5s");
  EXPECT_EQ(am["route"]["group_interval"], "1s");
  EXPECT_EQ(am["route"]["routes"][0]["group_wait"], "5s");
  EXPECT_EQ(am["route"]["group_by"], Json::array({"instance_code"}));
  auto r = amtool(am, {});
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(AlertmanagerConfig, RoutesBySeverityToTheBuiltInReceivers) {
  Json am = alertmanager_config(repo_alertmanager(), StackSettings{});
  for (const auto& [severity, receiver] :
       std::vector<std::pair<std::string, std::string>>{{"critical", "dive-critical"},
                                                        {"warning", "dive-warning"},
                                                        {"info", "dive-info"},
                                                        {"", "dive-log"}}) {
    std::vector<std::string> labels{"--verify.receivers=" + receiver, "alertname=Test", "instance_code=USA"};
    if (!severity.empty()) labels.push_back("severity=" + severity);
    auto r = amtool(am, labels);
    EXPECT_EQ(r.exit_code, 0) << severity << ": " << r.output;
  }
}

TEST(AlertmanagerConfig, OperatorReceiversAreAddedWithTheirOwnRoutes) {
  StackSettings s;
  s.operator_settings = Json::parse(R"({"receivers": [
      {"name": "oncall", "severities": ["critical"],
       "email_configs": [{"to": "oncall@example.org", "from": "dive@example.org", "smarthost": "mail.example.org:587"}]},
      {"name": "chatops", "severities": ["critical", "warning"],
       "webhook_configs": [{"url": "https://chat.example.org/hook"}]}]})");
  Json am = alertmanager_config(repo_alertmanager(), s);
  EXPECT_EQ(am["route"]["routes"][0]["receiver"], "oncall");
  EXPECT_EQ(am["route"]["routes"][0]["continue"], true);
  EXPECT_EQ(am["route"]["routes"][0]["matchers"][0], "severity=~\"critical\"");
  EXPECT_EQ(am["route"]["routes"][1]["matchers"][0], "severity=~\"critical|warning\"");
  EXPECT_EQ(am["route"]["routes"][2]["receiver"], "dive-critical");  // DIVE's routes follow
  auto check = amtool(am, {});
  EXPECT_EQ(check.exit_code, 0) << check.output;
  // A critical alert reaches the operator's receivers and still the built-in one.
  auto r =
      amtool(am, {"--verify.receivers=oncall,chatops,dive-critical", "alertname=X", "severity=critical"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  auto w = amtool(am, {"--verify.receivers=chatops,dive-warning", "alertname=X", "severity=warning"});
  EXPECT_EQ(w.exit_code, 0) << w.output;
}

TEST(AlertmanagerConfig, BadOperatorReceiversAreRefusedWithTheReason) {
  auto refused = [](const std::string& receivers) {
    StackSettings s;
    s.operator_settings = Json::parse(receivers);
    try {
      alertmanager_config(repo_alertmanager(), s);
      return std::string("accepted");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
  };
  EXPECT_NE(refused(R"({"receivers": {}})").find("must be a list"), std::string::npos);
  EXPECT_NE(refused(R"({"receivers": [{"webhook_configs": []}]})").find("no \"name\""), std::string::npos);
  EXPECT_NE(refused(R"({"receivers": [{"name": "dive-x", "webhook_configs": []}]})").find("DIVE's own"),
            std::string::npos);
  EXPECT_NE(refused(R"({"receivers": [{"name": "a", "webhook_configs": [{"url": "https://x"}]},
                                       {"name": "a", "webhook_configs": [{"url": "https://y"}]}]})")
                .find("two receivers"),
            std::string::npos);
  EXPECT_NE(refused(R"({"receivers": [{"name": "a"}]})").find("no *_configs"), std::string::npos);
  EXPECT_NE(
      refused(
          R"({"receivers": [{"name": "a", "severities": ["page"], "webhook_configs": [{"url": "https://x"}]}]})")
          .find("severities"),
      std::string::npos);
}

TEST(Targets, AnInstanceHasItsServicesItsExportersAndTheHubItsBlacklist) {
  Json ports = Json::parse(
      R"({"api": 4010, "idp": 8453, "pdp": 9110, "kas": 10010, "web": 3010, "postgres_exporter": 11010,
          "redis_exporter": 11310})");
  auto files = instance_targets("FRA", ports, 0);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].first, "fra.dive.json");
  EXPECT_EQ(files[0].second.size(), 5u);
  EXPECT_EQ(files[0].second[4]["targets"][0], "localhost:3010");
  EXPECT_EQ(files[0].second[4]["labels"]["component"], "web");
  EXPECT_EQ(files[0].second[0]["targets"][0], "localhost:4010");
  EXPECT_EQ(files[0].second[0]["labels"], Json::parse(R"({"instance_code": "FRA", "component": "api"})"));
  EXPECT_EQ(files[1].first, "fra.postgres.json");
  EXPECT_EQ(files[1].second[0]["targets"][0], "localhost:11010");
  EXPECT_EQ(files[2].first, "fra.redis.json");
  EXPECT_EQ(files[2].second.size(), 1u);
  auto placed = instance_targets("FRA", ports, 0, "127.0.0.2");  // an instance on a host of its own
  EXPECT_EQ(placed[0].second[0]["targets"][0], "127.0.0.2:4010");
  auto hub = instance_targets("USA", ports, 11600);
  ASSERT_EQ(hub[2].second.size(), 2u);
  EXPECT_EQ(hub[2].second[1]["labels"]["component"], "redis-blacklist");
  EXPECT_EQ(hub[2].second[1]["targets"][0], "localhost:11600");
}
