#pragma once
// The one port table of DIVE (docs/ORCHESTRATION.md): an offset per instance code, then base + offset.
// NATO 0-31, partners 32-37, test codes 200-214, other listed ISO codes (sum of ASCII) % 160 + 40,
// anything else POSIX cksum("CODE\n") % 20 + 48. DIVE_PORT_SHIFT adds to every port.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"

namespace dive::orch {

inline constexpr std::string_view kHubCode = "USA";

enum class PortGroup { Nato, Partner, Test, Iso, Hash };
const char* to_string(PortGroup g);  // "nato", "partner", "test", "iso", "hash"

struct Ports {
  int web = 0, api = 0, idp = 0, pdp = 0, kas = 0, postgres = 0, redis = 0;
  int postgres_exporter = 0, redis_exporter = 0;  // DIVE's own bases (data/ports.json dive_bases)
};

// One monitoring stack per $DIVE_HOME (docs/MONITORING.md): data/ports.json dive_monitoring_ports + shift.
struct MonitoringPorts {
  int prometheus = 0, alertmanager = 0, monitor = 0, grafana = 0;
};

struct InstancePorts {
  std::string code;  // upper-case
  int offset = 0;
  PortGroup group = PortGroup::Hash;
  Ports ports;
  Json to_json() const;
  // {"code","offset","group","ports":{web,api,idp,pdp,kas,postgres,redis,postgres_exporter,redis_exporter}}
  // with keys in that order.
  std::string to_json_text() const;
};

// Three ASCII letters, any case, upper-cased; nullopt otherwise.
std::optional<std::string> normalize_code(std::string_view code);
// POSIX cksum (CRC-32/CKSUM over the bytes and their length).
uint32_t posix_cksum(std::string_view data);

// Offset and ports for a code (already normalized), with `shift` added to every port.
InstancePorts resolve_ports(const std::string& code, int shift = 0);
// The shared token-revocation Redis on the hub and its exporter: data/ports.json dive_hub_ports + shift.
int blacklist_redis_port(int shift = 0);
int blacklist_redis_exporter_port(int shift = 0);
MonitoringPorts monitoring_ports(int shift = 0);
// DIVE_PORT_SHIFT from the environment (0 when unset); throws std::invalid_argument on a bad value.
int port_shift_from_env();
std::string instance_name(const std::string& code);  // "France", "Test Instance", or the code itself

// (service, port) pairs in a stable order, for port checks and tables.
std::vector<std::pair<std::string, int>> named_ports(const Ports& p);

}  // namespace dive::orch
