#pragma once
// What the supervisor runs for one instance, in dependency order: postgres, redis, (hub) the shared
// blacklist redis, then pdp, idp, kas, api, then the Prometheus exporters of its data stores
// (postgres-exporter, redis-exporter, hub: redis-blacklist-exporter) — each with its argv, identity, stop
// signal and health probe.
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

enum class ProbeKind { Postgres, Redis, Https };

struct ChildSpec {
  std::string name;  // postgres, redis, redis-blacklist, pdp, idp, kas, api, *-exporter
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  int stop_signal = 15;  // SIGTERM; postgres uses SIGINT (fast shutdown)
  ProbeKind probe = ProbeKind::Https;
  int port = 0;
  std::string user, password;          // postgres / redis credentials for the probe (never logged)
  std::vector<std::string> databases;  // postgres: created on first readiness
  // postgres: the instance database (databases[0]) gets its migrations and these services' roles and
  // grants (service -> password, orchestrator/db_roles.hpp) on first readiness.
  std::map<std::string, std::string> db_roles;
  std::string log_path;  // stdout and stderr are appended here
  // Https probes: GET these paths on https://<host>:<port>, verified against the CA; 200 passes.
  std::string host = "localhost";
  std::string ready_path = "/health/ready", live_path = "/health/live";
  // Services: the address the supervisor binds `port` on and hands to the process (DIVE_LISTEN_FD), so that a
  // graceful restart can run the old and the new process on one socket. Empty: the process binds it itself.
  std::string listen_address;
  bool is_service() const { return probe == ProbeKind::Https; }
};

// The names of the C++ services, in start order.
const std::vector<std::string>& service_names();
// The exporters of an instance's data stores, in start order (after the services).
std::vector<std::string> exporter_names(bool hub);
// Every child name of an instance, in start order (the hub also runs redis-blacklist).
std::vector<std::string> child_names(bool hub);

// The TLS settings file of the exporters (exporter-toolkit's web config) and its text.
std::filesystem::path exporter_web_config(const InstancePaths& paths);
std::string exporter_web_config_text(const InstancePaths& paths);

std::vector<ChildSpec> build_children(const Json& config, const Json& secrets, const InstancePaths& paths,
                                      const std::filesystem::path& dive_exe);

}  // namespace dive::orch
