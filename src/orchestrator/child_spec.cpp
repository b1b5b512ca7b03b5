#include "orchestrator/child_spec.hpp"

#include <csignal>

#include "store/local_postgres.hpp"
#include "store/local_redis.hpp"

namespace dive::orch {

const std::vector<std::string>& service_names() {
  static const std::vector<std::string> names{"pdp", "idp", "kas", "api"};
  return names;
}

std::vector<std::string> child_names(bool hub) {
  std::vector<std::string> out{"postgres", "redis"};
  if (hub) out.push_back("redis-blacklist");
  for (const auto& s : service_names()) out.push_back(s);
  return out;
}

std::vector<ChildSpec> build_children(const Json& cfg, const Json& secrets, const InstancePaths& paths,
                                      const std::filesystem::path& dive_exe) {
  std::vector<ChildSpec> out;
  const std::string code = cfg.at("code");
  const bool hub = cfg.value("role", "") == "hub";
  const auto who = store::postgres_run_as();

  ChildSpec pg;
  pg.name = "postgres";
  store::PgClusterSpec spec;
  spec.data_dir = paths.pg_data;
  spec.port = static_cast<uint16_t>(cfg["ports"]["postgres"].get<int>());
  pg.argv = store::pg_server_argv(spec);
  pg.env["LC_ALL"] = "C.UTF-8";
  pg.uid = who.uid;
  pg.gid = who.gid;
  pg.stop_signal = SIGINT;
  pg.probe = ProbeKind::Postgres;
  pg.port = spec.port;
  pg.user = cfg["database"].value("user", "dive");
  pg.password = secrets.at("postgres_password");
  pg.databases = {cfg["database"].value("name", "dive")};
  if (hub) pg.databases.push_back("orchestration");
  pg.log_path = paths.log("postgres").string();
  out.push_back(pg);

  auto redis = [&](const std::string& name, const std::filesystem::path& dir, int port,
                   const std::string& password) {
    ChildSpec r;
    r.name = name;
    r.argv = store::redis_server_argv(dir / "redis.conf");
    r.probe = ProbeKind::Redis;
    r.port = port;
    r.password = password;
    r.log_path = paths.log(name).string();
    return r;
  };
  out.push_back(redis("redis", paths.redis_dir, cfg["redis"]["port"], secrets.at("redis_password")));
  if (hub)
    out.push_back(redis("redis-blacklist", paths.blacklist_dir, cfg["blacklist_redis"]["port"],
                        secrets.at("blacklist_redis_password")));

  for (const auto& svc : service_names()) {
    ChildSpec s;
    s.name = svc;
    s.argv = {dive_exe.string(), "serve", svc, "--instance", code};
    s.env["DIVE_HOME"] = cfg.at("home").get<std::string>();
    s.probe = ProbeKind::Https;
    s.port = cfg["ports"][svc];
    s.log_path = paths.log(svc).string();
    out.push_back(s);
  }
  return out;
}

}  // namespace dive::orch
