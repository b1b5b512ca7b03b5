#pragma once
#include <sys/types.h>
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

// How an instance reaches the revocation store (the hub's blacklist Redis): the hub's own services as its
// default user; a spoke of the same home as the ACL user "spoke", limited to the revocation keys and
// channels (docs/SECURITY.md).
struct BlacklistAccess {
  std::string user;  // "" for the default user
  std::string password;
};

// secrets.json: generated once and kept (0600, the operator's), and each service's own part of it, written
// beside it by write_secrets(). `blacklist`: a spoke's access to its hub's store (nullopt for the hub or a
// standalone spoke, which keep their own).
Json ensure_secrets(const InstancePaths& p, const std::optional<BlacklistAccess>& blacklist);
Json read_secrets(const InstancePaths& p);
// What one service (api, idp, pdp, kas) may know of the secrets: its own database role and password, the
// stores it uses, and only its keys (the api never gets kas_key_encryption_key).
Json service_secrets(const std::string& service, const Json& secrets);
// Writes secrets.json (0600, the operator's) and secrets/<service>.json (0600; as root, owned by the
// service's own account, orchestrator/service_user.hpp).
void write_secrets(const InstancePaths& p, const Json& secrets);
void write_service_secrets(const InstancePaths& p, const Json& secrets);

// libpq connection string of the instance's own database (from instance.json and secrets.json), for the
// CLI's direct reads and writes (users, keys, seeding, policy bundles). Throws like the readers above.
std::string instance_db_conninfo(const InstancePaths& p, int connect_timeout_s = 3);

// Recursive merge: values of `over` replace those of `base`, objects merge key by key.
Json merge_json(Json base, const Json& over);

}  // namespace dive::orch
