// ./dive monitoring up [--profile dev|test] | down | status [--json] | logs [SVC] [-f]
// ./dive alerts [--json] [--all] [-n N]
// (docs/MONITORING.md)
#include <cstdio>
#include <ctime>

#include "cli/context.hpp"
#include "cli/instance_ops.hpp"
#include "common/strings.hpp"
#include "monitoring/notifications.hpp"
#include "orchestrator/logs.hpp"
#include "orchestrator/monitoring_stack.hpp"

namespace dive::cli {

namespace {

std::string when(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string alert_where(const Json& labels) {
  std::vector<std::string> parts;
  for (const char* k : {"instance_code", "component", "service", "certificate", "reason"})
    if (labels.contains(k)) parts.push_back(labels[k].get<std::string>());
  return join(parts, " ");
}

int print_monitoring_status(bool json) {
  Json st = orch::monitoring_status(ctx().layout);
  if (json) {
    std::printf("%s\n", st.dump(2).c_str());
    return kOk;
  }
  if (!st.value("configured", false)) {
    std::printf("monitoring: not set up under %s (./dive monitoring up)\n",
                ctx().layout.home.string().c_str());
    return kOk;
  }
  if (st.value("running", false))
    std::printf("monitoring (profile %s): running, supervisor pid %d, up %s\n",
                st.value("profile", "dev").c_str(), st["supervisor"]["pid"].get<int>(),
                format_duration_ms(st["supervisor"]["uptimeMs"].get<int64_t>()).c_str());
  else
    std::printf("monitoring (profile %s): stopped\n", st.value("profile", "dev").c_str());
  print_process_table(st["services"]);
  const Json& p = st["ports"];
  std::printf("Prometheus https://localhost:%d   Alertmanager https://localhost:%d   (CA %s)\n",
              p.value("prometheus", 0), p.value("alertmanager", 0), ctx().layout.ca_cert().string().c_str());
  if (st.contains("targets")) {
    const Json& t = st["targets"];
    if (t.contains("error")) {
      std::printf("targets: Prometheus does not answer (%s)\n", t["error"].get<std::string>().c_str());
    } else {
      std::vector<std::string> jobs;
      for (auto it = t["jobs"].begin(); it != t["jobs"].end(); ++it) {
        int up = it.value().value("up", 0), down = it.value().value("down", 0);
        jobs.push_back(it.key() + " " + std::to_string(up) + "/" + std::to_string(up + down));
      }
      std::printf("targets up: %s\n", join(jobs, ", ").c_str());
      for (const auto& d : t["down"])
        std::printf("  DOWN %s %s (%s %s): %s\n", d["job"].get<std::string>().c_str(),
                    d["instance"].get<std::string>().c_str(), d["component"].get<std::string>().c_str(),
                    d["instance_code"].get<std::string>().c_str(), d["lastError"].get<std::string>().c_str());
    }
  }
  if (st.contains("alerts")) {
    const Json& a = st["alerts"];
    if (a.contains("error")) {
      std::printf("alerts: %s\n", a["error"].get<std::string>().c_str());
    } else {
      std::vector<std::string> parts;
      for (auto it = a.begin(); it != a.end(); ++it) {
        int n = 0;
        std::vector<std::string> sev;
        for (auto s = it.value().begin(); s != it.value().end(); ++s) {
          n += s.value().get<int>();
          sev.push_back(std::to_string(s.value().get<int>()) + " " + s.key());
        }
        parts.push_back(std::to_string(n) + " " + it.key() + " (" + join(sev, ", ") + ")");
      }
      std::printf("alerts: %s (./dive alerts)\n", parts.empty() ? "none" : join(parts, "; ").c_str());
    }
  }
  return kOk;
}

int print_alerts(bool json, bool all, size_t limit) {
  const auto files = orch::monitoring_files(ctx().layout);
  if (!std::filesystem::exists(files.monitor_json))
    throw std::runtime_error("monitoring is not set up under " + files.dir.string() +
                             "; run ./dive monitoring up");
  Json active = Json::array(), suppressed = Json::array();
  std::string am_error;
  try {
    for (const auto& a : orch::alertmanager_alerts(ctx().layout))
      (a["state"] == "active" ? active : suppressed).push_back(a);
  } catch (const std::exception& e) {
    am_error = e.what();
  }
  auto notes = monitoring::NotificationLog::read(files.notifications, all ? 0 : limit);
  if (json) {
    Json out = {{"active", active},
                {"suppressed", suppressed},
                {"notifications", notes},
                {"alertmanagerError", am_error.empty() ? Json(nullptr) : Json(am_error)}};
    std::printf("%s\n", out.dump(2).c_str());
    return kOk;
  }
  if (!am_error.empty()) ctx().out.warn(am_error + "; showing the notifications received only");
  auto table = [](const char* title, const Json& alerts) {
    std::printf("%s (%zu)\n", title, alerts.size());
    if (alerts.empty()) return;
    std::printf("  %-9s %-32s %-24s %-21s %s\n", "SEVERITY", "ALERT", "WHERE", "SINCE", "SUMMARY");
    for (const auto& a : alerts) {
      const Json& l = a["labels"];
      std::printf("  %-9s %-32s %-24s %-21s %s\n", l.value("severity", "-").c_str(),
                  l.value("alertname", "?").c_str(), alert_where(l).c_str(),
                  a.value("startsAt", "").substr(0, 19).c_str(),
                  a["annotations"].value("summary", "").c_str());
      if (a["annotations"].contains("runbook_url"))
        std::printf("  %-9s runbook: %s\n", "", a["annotations"]["runbook_url"].get<std::string>().c_str());
      if (!a.value("inhibitedBy", Json::array()).empty())
        std::printf("  %-9s inhibited: its cause alerts already\n", "");
    }
  };
  if (am_error.empty()) {
    table("ACTIVE ALERTS", active);
    if (all)
      table("SUPPRESSED (inhibited or silenced)", suppressed);
    else if (!suppressed.empty())
      std::printf("(%zu suppressed: inhibited by their cause or silenced; --all shows them)\n",
                  suppressed.size());
  }
  std::printf("NOTIFICATIONS RECEIVED (%s, %s)\n", files.notifications.string().c_str(),
              all ? "all" : ("last " + std::to_string(limit)).c_str());
  for (const auto& n : notes) {
    std::vector<std::string> names;
    for (const auto& a : n["alerts"])
      names.push_back(a["labels"].value("alertname", "?") + "{" + alert_where(a["labels"]) + "}" +
                      (a.value("status", "") != n.value("status", "") ? " " + a.value("status", "") : ""));
    std::printf("  %s %-14s %-9s %s\n", when(n.value("receivedAt", int64_t{0})).c_str(),
                n.value("receiver", "").c_str(), n.value("status", "").c_str(), join(names, ", ").c_str());
  }
  if (notes.empty()) std::printf("  (none)\n");
  return kOk;
}

// ./dive monitoring up: --profile (if given) must be dev or test; ports follow the hub's shift.
int monitoring_up_with_profile(const std::string& profile) {
  orch::MonitoringOptions o;
  if (!profile.empty()) {
    auto p = orch::parse_profile(profile);
    if (!p) throw UsageError("--profile is dev or test (got '" + profile + "')");
    o.profile = p;
  }
  o.port_shift = resolve_port_shift(std::string(orch::kHubCode));
  o.dive_exe = ctx().exe;
  return orch::monitoring_up(ctx().layout, o, ctx().out);
}

// ./dive monitoring logs [SVC]: every monitoring process and the supervisor, or only SVC.
int print_monitoring_logs(const std::string& svc, size_t lines, bool follow) {
  auto names = orch::monitoring_child_names(true);
  names.push_back("supervisor");
  if (!svc.empty()) {
    if (std::find(names.begin(), names.end(), svc) == names.end())
      throw UsageError("no monitoring process '" + svc + "' (one of: " + join(names, ", ") + ")");
    names = {svc};
  }
  if (!orch::print_logs(ctx().layout.monitoring(), names, lines, follow)) {
    ctx().out.warn("no monitoring logs under " + ctx().layout.monitoring().logs.string());
    return kFailed;
  }
  return kOk;
}

}  // namespace

void add_monitoring_commands(CLI::App& app) {
  auto* mon = app.add_subcommand(
      "monitoring",
      "Prometheus, Alertmanager and the built-in alert receiver of this $DIVE_HOME (docs/MONITORING.md)");
  mon->require_subcommand(1);
  static std::string profile;
  static bool json = false, follow = false;
  static std::string svc;
  static size_t lines = 50;

  auto* up = mon->add_subcommand(
      "up", "Write the configuration and start (or reload) the stack; waits until healthy");
  up->add_option("--profile", profile,
                 "dev or test (1 s scrapes, short alert durations); default: as before, "
                 "else the hub's");
  up->callback([] { ctx().exit_code = monitoring_up_with_profile(profile); });

  auto* down = mon->add_subcommand("down", "Stop Prometheus, Alertmanager and the receiver (data is kept)");
  down->callback([] {
    int n = orch::monitoring_down(ctx().layout);
    ctx().out.ok(n > 0 ? "monitoring stopped (" + std::to_string(n) + " processes)"
                       : "monitoring was not running");
  });

  auto* status = mon->add_subcommand("status", "Processes, targets by health, alerts by state");
  status->add_flag("--json", json, "Machine-readable output");
  status->callback([] { ctx().exit_code = print_monitoring_status(json); });

  auto* logs = mon->add_subcommand("logs", "Show the monitoring processes' logs");
  logs->add_option("SVC", svc, "monitor, alertmanager, prometheus, grafana or supervisor");
  logs->add_flag("-f,--follow", follow, "Keep printing new lines");
  logs->add_option("-n,--lines", lines, "Lines per log (default 50)");
  logs->callback([] { ctx().exit_code = print_monitoring_logs(svc, lines, follow); });

  static bool all = false;
  static size_t limit = 20;
  static bool alerts_json = false;
  auto* alerts =
      app.add_subcommand("alerts", "Alerts firing now (from Alertmanager) and the notifications received");
  alerts->add_flag("--json", alerts_json, "Machine-readable output (active, suppressed, notifications)");
  alerts->add_flag("--all", all, "Also the suppressed alerts, and every notification ever received");
  alerts->add_option("-n,--limit", limit, "Notifications to show without --all (default 20)");
  alerts->callback([] { ctx().exit_code = print_alerts(alerts_json, all, limit); });
}

}  // namespace dive::cli
