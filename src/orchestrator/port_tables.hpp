#pragma once
// The port table of DIVE (docs/ORCHESTRATION.md) as data: defined by a file generated at build time from
// data/ports.json (cmake/GeneratePortTables.cmake), its one source. ports.hpp computes ports from it.
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace dive::orch::tables {

const std::unordered_map<std::string_view, int>& nato();        // nato: code -> offset 0-31
const std::unordered_map<std::string_view, int>& partners();    // partners: code -> offset 32-37
const std::unordered_map<std::string_view, int>& test_codes();  // custom_test_codes: code -> offset 200-214
// iso_countries: the non-NATO, non-partner ISO codes whose offset is the formula's.
const std::unordered_set<std::string_view>& iso_countries();
const std::unordered_map<std::string_view, std::string_view>& names();  // names: code -> instance name

// The base ports (port = base + offset + DIVE_PORT_SHIFT), under DIVE's names: bases.{frontend, backend,
// keycloak_https, opa, kas, postgres, redis}, dive_bases, and the ports of the hub only (dive_hub_ports) and
// of the monitoring stack (dive_monitoring_ports), which take the shift but no offset.
struct Bases {
  int web, api, idp, pdp, kas, postgres, redis;
  int postgres_exporter, redis_exporter;
  int blacklist_redis, blacklist_redis_exporter;
  int prometheus, alertmanager, monitor, grafana;
};
const Bases& bases();

}  // namespace dive::orch::tables
