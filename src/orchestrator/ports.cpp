#include "orchestrator/ports.hpp"

#include <cctype>
#include <cstdlib>
#include <stdexcept>

#include "orchestrator/port_tables.hpp"

namespace dive::orch {

const char* to_string(PortGroup g) {
  switch (g) {
    case PortGroup::Nato:
      return "nato";
    case PortGroup::Partner:
      return "partner";
    case PortGroup::Test:
      return "test";
    case PortGroup::Iso:
      return "iso";
    case PortGroup::Hash:
      return "hash";
  }
  return "hash";
}

std::optional<std::string> normalize_code(std::string_view code) {
  if (code.size() != 3) return std::nullopt;
  std::string out;
  for (char c : code) {
    if (!std::isalpha(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) > 127)
      return std::nullopt;
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

uint32_t posix_cksum(std::string_view data) {
  auto step = [](uint32_t crc, uint8_t byte) {
    crc ^= static_cast<uint32_t>(byte) << 24;
    for (int i = 0; i < 8; ++i) crc = (crc & 0x80000000u) ? (crc << 1) ^ 0x04C11DB7u : (crc << 1);
    return crc;
  };
  uint32_t crc = 0;
  for (unsigned char c : data) crc = step(crc, c);
  for (size_t len = data.size(); len > 0; len >>= 8) crc = step(crc, static_cast<uint8_t>(len & 0xFF));
  return ~crc;
}

InstancePorts resolve_ports(const std::string& code, int shift) {
  InstancePorts r;
  r.code = code;
  if (auto it = tables::nato().find(code); it != tables::nato().end()) {
    r.offset = it->second;
    r.group = PortGroup::Nato;
  } else if (auto it2 = tables::partners().find(code); it2 != tables::partners().end()) {
    r.offset = it2->second;
    r.group = PortGroup::Partner;
  } else if (auto it3 = tables::test_codes().find(code); it3 != tables::test_codes().end()) {
    r.offset = it3->second;
    r.group = PortGroup::Test;
  } else if (tables::iso_countries().count(code)) {
    int sum = 0;
    for (char c : code) sum += static_cast<unsigned char>(c);
    r.offset = sum % 160 + 40;
    r.group = PortGroup::Iso;
  } else {
    r.offset = static_cast<int>(posix_cksum(code + "\n") % 20) + 48;
    r.group = PortGroup::Hash;
  }
  const int o = r.offset + shift;
  const auto& b = tables::bases();
  r.ports = Ports{.web = b.web + o,
                  .api = b.api + o,
                  .idp = b.idp + o,
                  .pdp = b.pdp + o,
                  .kas = b.kas + o,
                  .postgres = b.postgres + o,
                  .redis = b.redis + o,
                  .postgres_exporter = b.postgres_exporter + o,
                  .redis_exporter = b.redis_exporter + o};
  return r;
}

int blacklist_redis_port(int shift) {
  return tables::bases().blacklist_redis + shift;
}

int blacklist_redis_exporter_port(int shift) {
  return tables::bases().blacklist_redis_exporter + shift;
}

MonitoringPorts monitoring_ports(int shift) {
  const auto& b = tables::bases();
  return MonitoringPorts{b.prometheus + shift, b.alertmanager + shift, b.monitor + shift, b.grafana + shift};
}

int port_shift_from_env() {
  const char* v = std::getenv("DIVE_PORT_SHIFT");
  if (!v || !*v) return 0;
  char* end = nullptr;
  long s = std::strtol(v, &end, 10);
  if (*end != '\0' || s < 0 || s > 55000)
    throw std::invalid_argument("DIVE_PORT_SHIFT must be a whole number from 0 to 55000 (got '" +
                                std::string(v) + "')");
  return static_cast<int>(s);
}

std::string instance_name(const std::string& code) {
  auto it = tables::names().find(code);
  return it == tables::names().end() ? code : std::string(it->second);
}

std::vector<std::pair<std::string, int>> named_ports(const Ports& p) {
  return {{"web", p.web},
          {"api", p.api},
          {"idp", p.idp},
          {"pdp", p.pdp},
          {"kas", p.kas},
          {"postgres", p.postgres},
          {"redis", p.redis},
          {"postgres_exporter", p.postgres_exporter},
          {"redis_exporter", p.redis_exporter}};
}

Json InstancePorts::to_json() const {
  return Json::parse(to_json_text());
}

std::string InstancePorts::to_json_text() const {
  nlohmann::ordered_json j;
  j["code"] = code;
  j["offset"] = offset;
  j["group"] = to_string(group);
  for (const auto& [name, port] : named_ports(ports)) j["ports"][name] = port;
  return j.dump();
}

}  // namespace dive::orch
