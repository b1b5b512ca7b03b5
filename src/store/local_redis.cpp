#include "store/local_redis.hpp"

#include "common/fs.hpp"

namespace dive::store {

std::filesystem::path redis_write_config(const RedisServerSpec& spec) {
  ensure_dir(spec.dir, 0700);
  std::string c = "# written by dive; changes here are overwritten at deploy\n";
  c += "bind 127.0.0.1\n";
  c += "protected-mode yes\n";
  c += "port " + std::to_string(spec.port) + "\n";
  c += "requirepass \"" + spec.password + "\"\n";
  for (const auto& u : spec.acl_users)
    c += "user " + u.name + " reset on >" + u.password + " " + u.rules + "\n";
  c += "dir \"" + spec.dir.string() + "\"\n";
  c += "daemonize no\n";
  c += "logfile \"\"\n";
  c += "loglevel notice\n";
  c += "save \"\"\n";
  c += std::string("appendonly ") + (spec.append_only ? "yes" : "no") + "\n";
  c += "appendfsync everysec\n";
  c += "maxmemory " + spec.maxmemory + "\n";
  c += "maxmemory-policy " + spec.maxmemory_policy + "\n";
  c += "tcp-keepalive 60\n";
  auto path = spec.dir / "redis.conf";
  write_file_atomic(path, c, 0600);
  return path;
}

std::vector<std::string> redis_server_argv(const std::filesystem::path& conf) {
  return {"redis-server", conf.string()};
}

}  // namespace dive::store
