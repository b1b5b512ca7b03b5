#pragma once
// The monitoring stack's generated configuration (docs/MONITORING.md), as pure functions of its settings:
// prometheus.yml, alertmanager.yml (from the repository's monitoring/alertmanager.yml, the port of this
// home's monitor, the profile's timings and the operator's receivers) and the file-based discovery targets
// of an instance. Relative paths in the results are relative to the monitoring directory, where they are
// written (Prometheus and Alertmanager resolve paths against their configuration file).
#include <string>
#include <utility>
#include <vector>

#include "common/json.hpp"

namespace dive::monitoring {

struct StackSettings {
  int prometheus_port = 9090, alertmanager_port = 9093, monitor_port = 9095;
  bool test_profile = false;                // 1 s scrape and evaluation, short Alertmanager waits
  Json operator_settings = Json::object();  // settings.json: "receivers": [...], "scrape_interval", ...
};

// Scrape jobs: dive (the C++ services, HTTPS), postgres, redis (exporters, HTTPS), monitor (honor_labels:
// its series name the instance and process they describe), prometheus, alertmanager. Targets of the first
// three come from targets/*.<job>.json. The test profile scrapes and evaluates every second (the postgres
// job every 2 s: its exporter takes a second to answer while the database is down).
Json prometheus_config(const StackSettings& s);

// The repository's Alertmanager configuration made this home's: the built-in webhook's URL points at the
// monitor's port; under the test profile group_wait is 5 s and group_interval 1 s; the operator's receivers
// (settings.json "receivers": [{name, severities: [...] or matchers: [...], <any *_configs>...}]) are
// added with a route each (continue: true, so the built-in receiver still gets everything). Throws
// std::invalid_argument naming the problem for a receiver without a name, a duplicate or reserved (dive-*)
// name, or one with no *_configs.
Json alertmanager_config(Json base, const StackSettings& s);

// The discovery files of one instance: {file name, content} for "<code>.dive.json" (api, idp, pdp, kas),
// "<code>.postgres.json" and "<code>.redis.json" (the hub's also lists its blacklist Redis). `ports` is the
// instance.json "ports" object; `blacklist_exporter_port` is 0 for a spoke.
// `host`: where Prometheus reaches the instance (its public host, in its certificate).
std::vector<std::pair<std::string, Json>> instance_targets(const std::string& code, const Json& ports,
                                                           int blacklist_exporter_port,
                                                           const std::string& host = "localhost");

}  // namespace dive::monitoring
