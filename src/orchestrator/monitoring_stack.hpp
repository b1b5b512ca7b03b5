#pragma once
// The monitoring stack of a $DIVE_HOME (docs/MONITORING.md): Prometheus, Alertmanager and the `monitor`
// service (the built-in alert receiver, and the supervisors' and orchestration database's metrics), with
// Grafana when one is installed, under a supervisor of their own (Layout::monitoring()). This file writes
// their configuration ($DIVE_HOME/monitoring/...), the file-based discovery targets of the instances, and
// starts, reloads, stops and reports on the stack.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/console.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/layout.hpp"
#include "orchestrator/ports.hpp"

namespace dive::orch {

struct MonitoringFiles {
  std::filesystem::path dir, settings, prometheus_yml, alertmanager_yml, rules, targets, web_yml, secrets,
      webhook_token, prometheus_data, alertmanager_data, notifications, monitor_json, grafana;
};
MonitoringFiles monitoring_files(const Layout& layout);

// The children of the monitoring supervisor, in start order.
std::vector<std::string> monitoring_child_names(bool grafana);

// File-based discovery: an instance is scraped while its target files exist. Deploy and `up` write them
// (from instance.json), `down` and nuke remove them, so a deliberately stopped instance is not alerted on.
void write_instance_targets(const Layout& layout, const std::string& code);
void remove_instance_targets(const Layout& layout, const std::string& code);
bool instance_monitored(const Layout& layout, const std::string& code);

struct MonitoringOptions {
  std::optional<Profile> profile;  // nullopt: settings.json's, else the hub's, else dev
  int port_shift = 0;
  std::filesystem::path dive_exe;
};

// Writes every generated file (settings.json is created once and then only read; the certificate, the
// webhook token and the generated configuration are (re)written). The operator's settings and the generated
// Prometheus and Alertmanager configurations are validated (promtool, amtool) before they replace the old
// ones: an invalid setting throws std::runtime_error with the tool's message, and the running stack keeps
// the configuration it has. settings.json and alertmanager.yml are mode 600 (receivers carry credentials).
// Returns the monitor's configuration (monitor.json).
Json prepare_monitoring(const Layout& layout, const MonitoringOptions& opts);
Json read_monitor_config(const Layout& layout);  // throws when monitoring was never prepared

std::vector<ChildSpec> monitoring_children(const Layout& layout, const Json& monitor_config,
                                           const std::filesystem::path& dive_exe);

// `./dive monitoring up`: prepare, start (or reload) and wait until every child is healthy. Exit code.
int monitoring_up(const Layout& layout, const MonitoringOptions& opts, const Console& out);
// `./dive monitoring down`: stops the stack (data kept). Returns the number of processes that were running.
int monitoring_down(const Layout& layout);

// The supervisor's view of the stack, plus (when running) Prometheus's targets by job and health and
// Alertmanager's alerts by severity and state: {"running", "services", "ports", "targets", "alerts", ...}.
Json monitoring_status(const Layout& layout);
// Alertmanager's alerts (GET /api/v2/alerts), each {labels, annotations, state, startsAt, inhibitedBy,
// silencedBy}; throws std::runtime_error when Alertmanager does not answer.
Json alertmanager_alerts(const Layout& layout);

}  // namespace dive::orch
