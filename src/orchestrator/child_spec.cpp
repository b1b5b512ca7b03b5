#include "orchestrator/child_spec.hpp"

#include "orchestrator/service_user.hpp"

#include <csignal>

#include "orchestrator/instance_config.hpp"
#include "store/local_postgres.hpp"
#include "store/local_redis.hpp"

namespace dive::orch {

const std::vector<std::string>& service_names() {
  static const std::vector<std::string> names{"pdp", "idp", "kas", "api", "web"};
  return names;
}

std::vector<std::string> exporter_names(bool hub) {
  std::vector<std::string> out{"postgres-exporter", "redis-exporter"};
  if (hub) out.push_back("redis-blacklist-exporter");
  return out;
}

std::vector<std::string> child_names(bool hub) {
  std::vector<std::string> out{"postgres", "redis"};
  if (hub) out.push_back("redis-blacklist");
  for (const auto& s : service_names()) out.push_back(s);
  for (const auto& e : exporter_names(hub)) out.push_back(e);
  return out;
}

std::filesystem::path exporter_web_config(const InstancePaths& paths) {
  return paths.certs / "exporter-web.yml";
}

std::string exporter_web_config_text(const InstancePaths& paths) {
  return "# TLS of this instance's Prometheus exporters (written by ./dive deploy).\n"
         "tls_server_config:\n"
         "  cert_file: " +
         paths.cert_file.string() + "\n  key_file: " + paths.key_file.string() + "\n";
}

namespace {
// Started as root, every child but PostgreSQL (which has its own account) runs as an unprivileged one
// (orchestrator/service_user.hpp).
std::vector<ChildSpec> with_accounts(std::vector<ChildSpec> children) {
  for (auto& c : children) {
    if (c.name == "postgres") continue;
    if (auto a = service_account(c.name)) {
      c.uid = a->uid;
      c.gid = a->gid;
    }
  }
  return children;
}
}  // namespace

std::vector<ChildSpec> build_children(const Json& cfg, const Json& secrets, const InstancePaths& paths,
                                      const std::filesystem::path& dive_exe) {
  std::vector<ChildSpec> out;
  const std::string code = cfg.at("code");
  const bool hub = cfg.value("role", "") == "hub";
  // The hub, or a spoke on a machine of its own: the orchestration database and the revocation store.
  const bool anchor = hub || cfg.value("standalone", false);
  const Placement where = Placement::from_config(cfg);
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
  if (anchor) pg.databases.push_back("orchestration");
  const Json roles = secrets.value("database_roles", Json::object());
  for (const auto& [svc, pw] : roles.items())
    if (pw.is_string()) pg.db_roles[svc] = pw.get<std::string>();
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
  if (anchor)
    out.push_back(redis("redis-blacklist", paths.blacklist_dir, cfg["blacklist_redis"]["port"],
                        secrets.at("blacklist_redis_password")));

  for (const auto& svc : service_names()) {
    ChildSpec s;
    s.name = svc;
    s.argv = {dive_exe.string(), "serve", svc, "--instance", code};
    s.env["DIVE_HOME"] = cfg.at("home").get<std::string>();
    s.probe = ProbeKind::Https;
    s.host = where.local_address();
    s.port = cfg["ports"][svc];
    s.listen_address = where.bind;
    s.log_path = paths.log(svc).string();
    out.push_back(s);
  }

  // The exporters (Debian's packages), on DIVE's own ports, over TLS with the instance certificate. They
  // run as long as the instance does: pg_up / redis_up say whether what they watch answers.
  const Json& ex = cfg.value("exporters", Json::object());
  if (!ex.value("enabled", true)) return with_accounts(std::move(out));
  ChildSpec pgx;
  pgx.name = "postgres-exporter";
  pgx.port = cfg["ports"].value("postgres_exporter", 0);
  pgx.argv = {ex.value("postgres_binary", "prometheus-postgres-exporter"),
              "--web.listen-address=" + where.bind + ":" + std::to_string(pgx.port),
              "--web.config.file=" + exporter_web_config(paths).string(), "--log.level=warn"};
  pgx.env["DATA_SOURCE_URI"] = "127.0.0.1:" + std::to_string(spec.port) + "/" +
                               cfg["database"].value("name", "dive") + "?sslmode=disable&connect_timeout=2";
  pgx.env["DATA_SOURCE_USER"] = cfg["database"].value("user", "dive");
  pgx.env["DATA_SOURCE_PASS"] = secrets.at("postgres_password");
  pgx.probe = ProbeKind::Https;
  pgx.host = where.local_address();
  pgx.ready_path = pgx.live_path = "/";  // its landing page; /metrics would query the database
  pgx.log_path = paths.log(pgx.name).string();
  out.push_back(pgx);

  auto redis_exporter = [&](const std::string& name, int redis_port, int port, const std::string& password) {
    ChildSpec x;
    x.name = name;
    x.port = port;
    x.argv = {ex.value("redis_binary", "prometheus-redis-exporter"),
              "-redis.addr",
              "redis://127.0.0.1:" + std::to_string(redis_port),
              "-web.listen-address",
              where.bind + ":" + std::to_string(port),
              "-tls-server-cert-file",
              paths.cert_file.string(),
              "-tls-server-key-file",
              paths.key_file.string(),
              "-connection-timeout",
              "2s"};
    x.env["REDIS_PASSWORD"] = password;
    x.probe = ProbeKind::Https;
    x.host = where.local_address();
    x.ready_path = x.live_path = "/health";
    x.log_path = paths.log(name).string();
    return x;
  };
  out.push_back(redis_exporter("redis-exporter", cfg["redis"]["port"],
                               cfg["ports"].value("redis_exporter", 0), secrets.at("redis_password")));
  if (anchor)
    out.push_back(redis_exporter("redis-blacklist-exporter", cfg["blacklist_redis"]["port"],
                                 cfg["blacklist_redis"].value("exporter_port", 0),
                                 secrets.at("blacklist_redis_password")));
  return with_accounts(std::move(out));
}

}  // namespace dive::orch
