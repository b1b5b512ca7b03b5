// monitor: the monitoring stack's own DIVE service (docs/MONITORING.md), one per $DIVE_HOME. It is
// Alertmanager's built-in receiver (POST /alerts/webhook with the stack's bearer token: every notification,
// firing and resolved, is appended to the durable log that `./dive alerts` reads, before it answers 200),
// and it exports what no instance process can: each monitored instance's supervisor view (up, wanted,
// restarts, last exit of every process) and the orchestration database's deployment state and CLI
// breakers, refreshed in the background and appended to its own /metrics.
#include <spdlog/spdlog.h>

#include <memory>
#include <pqxx/pqxx>

#include "common/encoding.hpp"
#include "common/fs.hpp"
#include "common/mutex.hpp"
#include "common/periodic.hpp"
#include "common/strings.hpp"
#include "metrics/registry.hpp"
#include "monitoring/monitor_metrics.hpp"
#include "monitoring/notifications.hpp"
#include "net/router.hpp"
#include "orchestrator/control_socket.hpp"
#include "orchestrator/layout.hpp"
#include "orchestrator/monitoring_stack.hpp"
#include "orchestrator/orch_db.hpp"
#include "orchestrator/pipeline.hpp"
#include "services/runtime/service_context.hpp"
#include "services/service_main.hpp"

namespace dive::services {

namespace {

using namespace std::chrono_literals;

// The supervisors' and the orchestration database's metrics, collected off the scrape path. Thread-safe:
// scrapes read the last text (under mu_) while the refresh thread builds the next.
class StackCollector {
 public:
  explicit StackCollector(orch::Layout layout) : layout_(std::move(layout)) {}

  void refresh() {
    std::vector<monitoring::SupervisorSample> samples;
    for (const auto& code : layout_.deployed_codes()) {
      if (!orch::instance_monitored(layout_, code)) continue;  // stopped on purpose, or not yet deployed
      auto r = orch::supervisor_request(layout_.instance(code).socket, Json{{"cmd", "status"}}, 1000ms);
      std::optional<Json> status;
      if (r && r->value("ok", false)) status = (*r)["status"];
      samples.push_back({code, status});
    }
    std::string text = monitoring::supervisor_metrics(samples);
    if (std::filesystem::exists(layout_.instance(std::string(orch::kHubCode)).instance_json))
      text += monitoring::orchestration_metrics(orchestration());
    MutexLock lock(mu_);
    text_ = std::move(text);
  }

  std::string text() const {
    MutexLock lock(mu_);
    return text_;
  }

 private:
  std::optional<Json> orchestration() {
    try {
      if (!db_ || !db_->is_open())
        db_ = std::make_unique<pqxx::connection>(orch::orchestration_conninfo(layout_));
      return orch::OrchDb::monitoring_snapshot(*db_);
    } catch (const std::exception& e) {
      if (db_) spdlog::warn("orchestration database: {}", e.what());
      db_.reset();
      return std::nullopt;
    }
  }

  orch::Layout layout_;
  std::unique_ptr<pqxx::connection> db_;  // only the refresh thread uses it
  mutable Mutex mu_;
  std::string text_ GUARDED_BY(mu_);
};

// POST /alerts/webhook: an Alertmanager notification, with the stack's bearer token, appended to the
// durable log before the 200 (503 when it cannot be stored).
net::Response receive_notification(net::Request& req, const std::string& token,
                                   monitoring::NotificationLog& log,
                                   metrics::Family<metrics::Counter>& received) {
  auto presented = req.bearer_token_view();
  if (!presented || !constant_time_equal(*presented, token))
    return net::Response::error(401, "unauthorized", "the webhook token is missing or wrong", req.request_id);
  Json record;
  try {
    record = monitoring::notification_record(Json::parse(req.body),
                                             std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
  } catch (const std::exception& e) {
    return net::Response::error(400, "invalid_notification", e.what(), req.request_id);
  }
  try {
    log.append(record);
  } catch (const std::exception& e) {
    // Not stored: Alertmanager retries a failed delivery, so say so instead of losing it.
    spdlog::error("cannot store a notification: {}", e.what());
    return net::Response::error(503, "unavailable", "the notification log cannot be written", req.request_id);
  }
  std::vector<std::string> names;
  for (const auto& a : record["alerts"])
    names.push_back(a["labels"].value("alertname", "?") + "{" + a["labels"].value("instance_code", "") + "}");
  spdlog::info("notification {} to {}: {}", record["status"].get<std::string>(),
               record["receiver"].get<std::string>(), join(names, ", "));
  received.labels({record["receiver"].get<std::string>(), record["status"].get<std::string>()}).inc();
  return net::Response::json(200, Json{{"ok", true}});
}

void wire_monitor(ServiceContext& ctx, const orch::Layout& layout, const std::string& token) {
  const Json& m = ctx.config()["monitor"];
  auto log = std::make_shared<monitoring::NotificationLog>(m.value("notifications", ""));
  auto collector = std::make_shared<StackCollector>(layout);
  ctx.keep(log);
  ctx.keep(collector);
  auto& received = ctx.registry().counter("dive_v3_alert_notifications_total",
                                          "Alertmanager notifications received by the built-in receiver",
                                          {"receiver", "status"});
  for (const char* r : {"dive-critical", "dive-warning", "dive-info", "dive-log"})
    for (const char* s : {"firing", "resolved"}) received.labels({r, s});

  ctx.router().add(
      "POST", "/alerts/webhook",
      [log, token, &received](net::Request& req) { return receive_notification(req, token, *log, received); },
      net::Exec::Worker);

  ctx.add_check("notificationLog", resilience::Impact::Critical, [path = m.value("notifications", "")] {
    const auto dir = std::filesystem::path(path).parent_path();
    const bool ok = ::access(dir.c_str(), W_OK) == 0;
    return resilience::CheckResult{ok, ok ? "" : "cannot write " + dir.string(), Json::object()};
  });

  ctx.replace_standard_route("/metrics");
  ctx.router().add(
      "GET", "/metrics",
      [&ctx, collector](net::Request&) {
        return net::Response::text(200, ctx.registry().expose() + collector->text(),
                                   "text/plain; version=0.0.4; charset=utf-8");
      },
      net::Exec::Worker);
  collector->refresh();
  ctx.keep(std::make_shared<Periodic>(
      Millis(m.value("refresh_ms", 5000)), [collector] { collector->refresh(); },
      [](const std::string& e) { spdlog::warn("monitoring refresh: {}", e); }));
}

}  // namespace

int serve_monitor() {
  block_stop_signals();
  try {
    const auto layout = orch::Layout::from_env();
    Json cfg = orch::read_monitor_config(layout);
    const std::string token = trim(read_file(cfg["monitor"].value("webhook_token_file", "")));
    if (token.empty()) throw std::runtime_error("the webhook token file is empty");
    ServiceContext ctx("monitor", "", cfg, Json::object());
    wire_monitor(ctx, layout, token);
    return ctx.run();
  } catch (const std::exception& e) {
    spdlog::critical("monitor cannot start: {}", e.what());
    return 1;
  }
}

}  // namespace dive::services
