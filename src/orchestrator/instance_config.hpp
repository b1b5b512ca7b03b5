#pragma once
// instance.json (every setting of one instance, read by all its services) and secrets.json (mode 600).
#include <optional>
#include <string>

#include "common/json.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

enum class Profile { Dev, Test };
const char* to_string(Profile p);
std::optional<Profile> parse_profile(std::string_view s);

bool is_hub(const std::string& code);  // USA (also accepted as HUB by the CLI)
// The hub, or a standalone spoke (a home without a hub): it runs the orchestration database and the
// revocation store itself. From instance.json (false when it cannot be read).
bool is_anchor(const Json& cfg);
struct InstancePaths;
bool is_anchor(const InstancePaths& paths);

// Where an instance is reached and where it listens: `host`, its public name or IPv4 address (in its URLs,
// its issuer and its certificate), and `bind`, the IPv4 address its services listen on (0.0.0.0: every
// interface). Defaults: localhost and 127.0.0.1. Its PostgreSQL and Redis always stay on 127.0.0.1.
struct Placement {
  std::string host = "localhost";
  std::string bind = "127.0.0.1";
  // The address this machine reaches the services at (probes, local checks): bind, or 127.0.0.1 for 0.0.0.0.
  std::string local_address() const { return bind == "0.0.0.0" ? "127.0.0.1" : bind; }
  Json to_json() const { return Json{{"host", host}, {"bind", bind}}; }
  static Placement from_config(const Json& cfg);  // host/bind of an instance.json (defaults when absent)
};
// From `deploy --host H [--bind A]`: A defaults to H when H is an IPv4 address, else to 127.0.0.1. Throws
// std::invalid_argument naming the problem (a host with a scheme, port or spaces; a bind that is not IPv4).
Placement make_placement(const std::string& host, const std::string& bind);

// The defaults for an instance: ports from the table (plus shift), paths under the layout, URLs on the
// placement's host, and the profile's timings (test: short breaker cooldowns, fast health checks, small
// seed, unsafe-fast PostgreSQL).
Json default_instance_config(const Layout& layout, const std::string& code, Profile profile, int port_shift,
                             const Placement& placement = {});

// Writes instance.json: new defaults overlaid with the operator's existing values (existing wins), except
// the derived fields (code, role, ports, urls, paths), which always follow the table. When `profile_changed`
// the profile-dependent sections are regenerated too. Returns the written config.
// `placement`: from the command line; absent, the instance keeps the one it has (else the default).
Json write_instance_config(const Layout& layout, const std::string& code, Profile profile, int port_shift,
                           const std::optional<Placement>& placement = std::nullopt);

Json read_instance_config(const InstancePaths& p);  // throws std::runtime_error naming the file

// secrets.json: generated once and kept. `blacklist_password` is the hub's (spokes share the hub's store).
Json ensure_secrets(const InstancePaths& p, const std::optional<std::string>& blacklist_password);
Json read_secrets(const InstancePaths& p);

// libpq connection string of the instance's own database (from instance.json and secrets.json), for the
// CLI's direct reads and writes (users, keys, seeding, policy bundles). Throws like the readers above.
std::string instance_db_conninfo(const InstancePaths& p, int connect_timeout_s = 3);

// Recursive merge: values of `over` replace those of `base`, objects merge key by key.
Json merge_json(Json base, const Json& over);

}  // namespace dive::orch
