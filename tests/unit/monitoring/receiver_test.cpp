// The built-in receiver's pieces: what is kept of an Alertmanager notification, the durable log, and the
// monitor's metrics about supervisors and the orchestration database.
#include <gtest/gtest.h>

#include <fstream>

#include "common/fs.hpp"
#include "monitoring/monitor_metrics.hpp"
#include "monitoring/notifications.hpp"

using namespace dive;
using namespace dive::monitoring;

namespace {
// What Alertmanager 0.25 posts (webhook version 4), trimmed.
Json payload(const std::string& status = "firing") {
  return Json::parse(R"({
    "version": "4", "groupKey": "{}/{severity=\"critical\"}:{instance_code=\"USA\"}", "truncatedAlerts": 0,
    "status": ")" + status +
                     R"(", "receiver": "dive-critical",
    "groupLabels": {"instance_code": "USA"}, "commonLabels": {"instance_code": "USA"}, "commonAnnotations": {},
    "externalURL": "https://localhost:9093",
    "alerts": [{"status": ")" +
                     status + R"(",
                "labels": {"alertname": "PostgreSQLDown", "severity": "critical", "instance_code": "USA"},
                "annotations": {"summary": "PostgreSQL of USA is down", "runbook_url": "docs/RUNBOOKS.md#postgresqldown"},
                "startsAt": "2026-12-06T20:17:34Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "https://localhost:9090/graph", "fingerprint": "abc123"}]})");
}
}  // namespace

TEST(Notifications, KeepWhatAnOperatorNeeds) {
  Json r = notification_record(payload(), 1765000000000);
  EXPECT_EQ(r["receivedAt"], 1765000000000);
  EXPECT_EQ(r["receiver"], "dive-critical");
  EXPECT_EQ(r["status"], "firing");
  EXPECT_EQ(r["groupLabels"]["instance_code"], "USA");
  ASSERT_EQ(r["alerts"].size(), 1u);
  EXPECT_EQ(r["alerts"][0]["labels"]["alertname"], "PostgreSQLDown");
  EXPECT_EQ(r["alerts"][0]["annotations"]["runbook_url"], "docs/RUNBOOKS.md#postgresqldown");
  EXPECT_EQ(r["alerts"][0]["fingerprint"], "abc123");
  EXPECT_FALSE(r["alerts"][0].contains("generatorURL"));
}

TEST(Notifications, APayloadThatIsNotANotificationIsRefusedWithTheReason) {
  auto reason = [](Json p) {
    try {
      notification_record(p, 0);
      return std::string("accepted");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
  };
  EXPECT_NE(reason(Json::array()).find("object"), std::string::npos);
  Json p = payload();
  p["version"] = "3";
  EXPECT_NE(reason(p).find("version"), std::string::npos);
  p = payload();
  p["status"] = "pending";
  EXPECT_NE(reason(p).find("status"), std::string::npos);
  p = payload();
  p["alerts"] = "none";
  EXPECT_NE(reason(p).find("alerts must be a list"), std::string::npos);
  p = payload();
  p["alerts"][0]["labels"].erase("alertname");
  EXPECT_NE(reason(p).find("alertname"), std::string::npos);
  p = payload();
  p["alerts"][0]["labels"]["severity"] = 3;
  EXPECT_NE(reason(p).find("labels.severity"), std::string::npos);
  p = payload();
  p.erase("receiver");
  EXPECT_NE(reason(p).find("receiver"), std::string::npos);
}

TEST(NotificationLog, AppendsDurablyReadsTheNewestAndSkipsATornLine) {
  TempDir dir;
  auto file = dir.path() / "notifications.jsonl";
  NotificationLog log(file);
  for (int i = 0; i < 5; ++i) {
    Json r = notification_record(payload(i % 2 ? "resolved" : "firing"), 1000 + i);
    log.append(r);
  }
  {
    std::ofstream torn(file, std::ios::app);
    torn << "{\"receivedAt\": 99";  // a crash in the middle of a line
  }
  auto all = NotificationLog::read(file);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all.front()["receivedAt"], 1000);
  EXPECT_EQ(all.back()["receivedAt"], 1004);
  auto last2 = NotificationLog::read(file, 2);
  ASSERT_EQ(last2.size(), 2u);
  EXPECT_EQ(last2[0]["receivedAt"], 1003);
  EXPECT_TRUE(NotificationLog::read(dir.path() / "missing.jsonl").empty());
}

TEST(NotificationLog, RotatesPastItsSizeAndReadsAcrossBothGenerations) {
  TempDir dir;
  auto file = dir.path() / "n.jsonl";
  const std::string one = notification_record(payload(), 100).dump() + "\n";
  NotificationLog log(file, one.size() * 3);  // room for three lines
  for (int i = 0; i < 5; ++i) log.append(notification_record(payload(), 100 + i));
  EXPECT_TRUE(std::filesystem::exists(file.string() + ".1"));
  auto all = NotificationLog::read(file);
  ASSERT_EQ(all.size(), 5u);  // 3 rotated + 2 current
  for (int i = 0; i < 5; ++i) EXPECT_EQ(all[i]["receivedAt"], 100 + i);
  log.append(notification_record(payload(), 200));
  log.append(notification_record(payload(), 201));  // a second rotation drops the oldest generation
  auto now = NotificationLog::read(file);
  EXPECT_EQ(now.front()["receivedAt"], 103);
  EXPECT_EQ(now.back()["receivedAt"], 201);
}

TEST(NotificationLog, AnUnwritableLogThrowsSoTheWebhookAnswersAnError) {
  NotificationLog log("/nonexistent-dir-dive/notifications.jsonl");
  EXPECT_THROW(log.append(notification_record(payload(), 1)), std::runtime_error);
}

TEST(MonitorMetrics, SupervisorsAndTheirChildren) {
  Json usa = Json::parse(R"({"instance": "USA", "services": [
      {"name": "api", "state": "running", "healthy": true, "wanted": true, "restarts": 2,
       "lastExit": "killed by SIGKILL", "lastExitAt": 1765000000500},
      {"name": "pdp", "state": "stopped", "healthy": false, "wanted": false, "restarts": 0, "lastExit": null}]})");
  std::string text = supervisor_metrics({{"USA", usa}, {"FRA", std::nullopt}});
  for (const char* line : {"dive_v3_supervisor_up{instance_code=\"USA\"} 1\n",
                           "dive_v3_supervisor_up{instance_code=\"FRA\"} 0\n",
                           "dive_v3_supervised_up{instance_code=\"USA\",component=\"api\"} 1\n",
                           "dive_v3_supervised_up{instance_code=\"USA\",component=\"pdp\"} 0\n",
                           "dive_v3_supervised_wanted{instance_code=\"USA\",component=\"pdp\"} 0\n",
                           "dive_v3_supervised_restarts_total{instance_code=\"USA\",component=\"api\"} 2\n",
                           "dive_v3_supervised_last_exit_timestamp_seconds{instance_code=\"USA\",component="
                           "\"api\"} 1765000000.5\n",
                           "dive_v3_supervised_last_exit_info{instance_code=\"USA\",component=\"api\",reason="
                           "\"killed by SIGKILL\"} 1\n",
                           "# TYPE dive_v3_supervised_restarts_total counter\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  EXPECT_EQ(text.find("component=\"pdp\",reason"), std::string::npos);  // no exit yet: no info series
  EXPECT_EQ(text.find("instance_code=\"FRA\",component"), std::string::npos);
}

TEST(MonitorMetrics, DeploymentsAndBreakersOfTheOrchestrationDatabase) {
  Json snap = Json::parse(R"({
      "deployments": [{"instance_code": "USA", "state": "COMPLETE", "last_result": "COMPLETE",
                       "last_duration_seconds": 4.5, "last_finished_seconds": 1765000000},
                      {"instance_code": "FRA", "state": "FAILED", "last_result": "FAILED",
                       "last_duration_seconds": 12, "last_finished_seconds": 1765000100},
                      {"instance_code": "GBR", "state": "INITIALIZING"}],
      "breakers": [{"operation": "deploy", "instance_code": "FRA", "state": "OPEN", "failures": 5},
                   {"operation": "deploy", "instance_code": "USA", "state": "HALF_OPEN", "failures": 0}],
      "errors": [{"instance_code": "FRA", "unresolved": 3}]})");
  std::string text = orchestration_metrics(snap);
  for (const char* line :
       {"dive_v3_orchestration_db_up 1\n",
        "dive_v3_deployment_state{instance_code=\"GBR\",state=\"INITIALIZING\"} 1\n",
        "dive_v3_deployment_last_success{instance_code=\"USA\"} 1\n",
        "dive_v3_deployment_last_success{instance_code=\"FRA\"} 0\n",
        "dive_v3_deployment_last_duration_seconds{instance_code=\"USA\"} 4.5\n",
        "dive_v3_deployment_last_timestamp_seconds{instance_code=\"FRA\"} 1765000100\n",
        "dive_v3_orchestration_breaker_state{operation=\"deploy\",instance_code=\"FRA\"} 2\n",
        "dive_v3_orchestration_breaker_state{operation=\"deploy\",instance_code=\"USA\"} 1\n",
        "dive_v3_orchestration_breaker_failures{operation=\"deploy\",instance_code=\"FRA\"} 5\n",
        "dive_v3_orchestration_errors_unresolved{instance_code=\"FRA\"} 3\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << "\nin:\n" << text;
  EXPECT_EQ(text.find("dive_v3_deployment_last_success{instance_code=\"GBR\"}"), std::string::npos);
  EXPECT_EQ(orchestration_metrics(std::nullopt),
            "# HELP dive_v3_orchestration_db_up 1 when the orchestration "
            "database answered the monitor\n# TYPE dive_v3_orchestration_db_up "
            "gauge\ndive_v3_orchestration_db_up 0\n");
}
