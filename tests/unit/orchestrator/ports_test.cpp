#include "orchestrator/ports.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "common/fs.hpp"
#include "common/json.hpp"
#include "orchestrator/child_spec.hpp"

using namespace dive;
using namespace dive::orch;

namespace {
const Json& data() {
  static const Json d = Json::parse(read_file(std::string(DIVE_SOURCE_DIR) + "/data/ports.json"));
  return d;
}
std::string group_name(
    const std::string& g) {  // ports.json says custom_test_code / iso_formula / hash_fallback
  if (g == "custom_test_code") return "test";
  if (g == "iso_formula") return "iso";
  if (g == "hash_fallback") return "hash";
  return g;
}
}  // namespace

TEST(Ports, EveryTestVectorOfTheDataFile) {
  for (auto& [code, offset] : data()["test_vectors"].items()) {
    auto p = resolve_ports(code);
    EXPECT_EQ(p.offset, offset.get<int>()) << code;
    EXPECT_EQ(to_string(p.group), group_name(data()["test_vectors_group"][code])) << code;
  }
}

TEST(Ports, LowerCaseInputIsAccepted) {
  for (auto& [code, offset] : data()["test_vectors_lowercase_input"].items()) {
    auto norm = normalize_code(code);
    ASSERT_TRUE(norm) << code;
    EXPECT_EQ(resolve_ports(*norm).offset, offset.get<int>()) << code;
  }
  EXPECT_EQ(normalize_code("FrA"), "FRA");
}

TEST(Ports, AnythingButThreeLettersIsRejected) {
  for (const char* bad : {"", "FR", "FRAN", "F1A", "12 ", "fr-", "ÉTA", "  A"})
    EXPECT_FALSE(normalize_code(bad)) << bad;
}

TEST(Ports, TablesMatchTheDataFile) {
  for (const char* table : {"nato", "partners", "custom_test_codes"})
    for (auto& [code, offset] : data()[table].items())
      EXPECT_EQ(resolve_ports(code).offset, offset.get<int>()) << code;
  for (auto& [code, offset] : data()["iso_offsets"].items()) {
    EXPECT_EQ(resolve_ports(code).offset, offset.get<int>()) << code;
    EXPECT_EQ(resolve_ports(code).group, PortGroup::Iso) << code;
  }
  for (const auto& code : data()["iso3166_codes_using_hash_fallback"])
    EXPECT_EQ(resolve_ports(code.get<std::string>()).group, PortGroup::Hash) << code;
  for (auto& [code, name] : data()["names"].items()) EXPECT_EQ(instance_name(code), name.get<std::string>());
}

TEST(Ports, PosixCksumMatchesTheRecordedValues) {
  for (auto& [code, v] : data()["hash_fallback_cksum_values"].items())
    EXPECT_EQ(posix_cksum(code + "\n"), v.get<uint32_t>()) << code;
  EXPECT_EQ(posix_cksum("deployment_fra"), 3067675975u);  // the lock id of the system we replace
}

TEST(Ports, ExamplePortsAndBases) {
  for (auto& [code, ex] : data()["example_ports"].items()) {
    auto p = resolve_ports(code).ports;
    EXPECT_EQ(p.web, ex["frontend"].get<int>()) << code;
    EXPECT_EQ(p.api, ex["backend"].get<int>()) << code;
    EXPECT_EQ(p.idp, ex["keycloak_https"].get<int>()) << code;
    EXPECT_EQ(p.postgres, ex["postgres"].get<int>()) << code;
    EXPECT_EQ(p.redis, ex["redis"].get<int>()) << code;
    EXPECT_EQ(p.pdp, ex["opa"].get<int>()) << code;
    EXPECT_EQ(p.kas, ex["kas"].get<int>()) << code;
  }
}

TEST(Ports, JsonFormIsExact) {
  EXPECT_EQ(
      resolve_ports("TST").to_json_text(),
      R"({"code":"TST","offset":200,"group":"test","ports":{"web":3200,"api":4200,"idp":8643,"pdp":9300,"kas":10200,"postgres":5632,"redis":6579,"postgres_exporter":11200,"redis_exporter":11500}})");
}

TEST(Ports, ShiftMovesEveryPort) {
  auto p = resolve_ports("USA", 20000);
  EXPECT_EQ(p.offset, 0);
  EXPECT_EQ(p.ports.api, 24000);
  EXPECT_EQ(p.ports.redis, 26379);
  EXPECT_EQ(blacklist_redis_port(20000), 26999);
}

TEST(Ports, NoTwoPortsOfOneInstanceCollideAcrossTheTable) {
  // Different bases never overlap for any offset in the table (0..214), so only equal offsets collide.
  for (int o : {0, 31, 93, 140, 214}) {
    auto p = resolve_ports("USA").ports;
    std::set<int> seen;
    for (int base :
         {p.web, p.api, p.idp, p.pdp, p.kas, p.postgres, p.redis, p.postgres_exporter, p.redis_exporter})
      EXPECT_TRUE(seen.insert(base + o).second);
    EXPECT_FALSE(seen.count(6999));
  }
}

TEST(Ports, DiveOwnBasesAreThoseOfTheDataFile) {
  const Json& d = data();
  auto p = resolve_ports("FRA", 7).ports;
  EXPECT_EQ(p.postgres_exporter, d["dive_bases"]["postgres_exporter"].get<int>() + 10 + 7);
  EXPECT_EQ(p.redis_exporter, d["dive_bases"]["redis_exporter"].get<int>() + 10 + 7);
  EXPECT_EQ(blacklist_redis_port(7), d["dive_hub_ports"]["blacklist_redis"].get<int>() + 7);
  EXPECT_EQ(blacklist_redis_exporter_port(7), d["dive_hub_ports"]["blacklist_redis_exporter"].get<int>() + 7);
  auto m = monitoring_ports(7);
  const Json& mp = d["dive_monitoring_ports"];
  EXPECT_EQ(m.prometheus, mp["prometheus"].get<int>() + 7);
  EXPECT_EQ(m.alertmanager, mp["alertmanager"].get<int>() + 7);
  EXPECT_EQ(m.monitor, mp["monitor"].get<int>() + 7);
  EXPECT_EQ(m.grafana, mp["grafana"].get<int>() + 7);
}

TEST(Ports, MonitoringAndHubPortsCollideWithNoInstancePortOfAnyOffset) {
  // Every instance port of every offset (0..214), against the ports that exist once per home.
  std::set<int> instance_ports;
  for (int o = 0; o <= 214; ++o) {
    auto p = resolve_ports("USA").ports;
    for (int base :
         {p.web, p.api, p.idp, p.pdp, p.kas, p.postgres, p.redis, p.postgres_exporter, p.redis_exporter})
      instance_ports.insert(base + o);
  }
  auto m = monitoring_ports();
  std::set<int> singles{blacklist_redis_port(),
                        blacklist_redis_exporter_port(),
                        m.prometheus,
                        m.alertmanager,
                        m.alertmanager + 1 /* its cluster port, never opened */,
                        m.monitor,
                        m.grafana};
  EXPECT_EQ(singles.size(), 7u);
  for (int port : singles) EXPECT_FALSE(instance_ports.count(port)) << port;
  // The exporters' own defaults are instance ports: never used.
  EXPECT_TRUE(instance_ports.count(9187));
  EXPECT_TRUE(instance_ports.count(9121));
}

// The table is generated from data/ports.json at build time (cmake/GeneratePortTables.cmake): what the data
// names, the code has. What the code needs of it: a distinct port for every service and data store of an
// instance, under every code group.
TEST(Ports, EveryServiceOfAnInstanceHasItsOwnPort) {
  for (const char* code : {"USA", "GBR", "AUS", "TST", "AFG", "ZZZ"}) {
    const auto named = named_ports(resolve_ports(code).ports);
    std::set<int> seen;
    for (const auto& [name, port] : named) {
      EXPECT_GT(port, 1024) << code << " " << name;
      EXPECT_TRUE(seen.insert(port).second) << code << " " << name << " shares port " << port;
    }
    for (const auto& svc : service_names())
      EXPECT_TRUE(std::any_of(named.begin(), named.end(), [&](const auto& n) { return n.first == svc; }))
          << code << ": no port for " << svc;
  }
}
