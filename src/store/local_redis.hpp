#pragma once
// A Redis server that we own: a generated config (loopback, requirepass, append-only file) and the
// argv to run it in the foreground.
#include <filesystem>
#include <string>
#include <vector>

namespace dive::store {

struct RedisServerSpec {
  std::filesystem::path dir;  // data dir: redis.conf, appendonly file
  uint16_t port = 6379;
  std::string password;
  std::string maxmemory = "256mb";
  std::string maxmemory_policy = "allkeys-lru";  // "noeviction" for stores that must not lose keys
  bool append_only = true;
  // Further ACL users (Redis 6+): `user <name> on ><password> <rules>`, e.g. a user limited to some keys,
  // channels and commands. The default user keeps `password` and every right.
  struct AclUser {
    std::string name, password, rules;
  };
  std::vector<AclUser> acl_users;
};

// Writes <dir>/redis.conf (mode 600: it holds the password); returns its path.
std::filesystem::path redis_write_config(const RedisServerSpec& spec);
std::vector<std::string> redis_server_argv(const std::filesystem::path& conf);

}  // namespace dive::store
