// INITIALIZATION and DEPLOYING of the deploy pipeline (docs/ORCHESTRATION.md "Deploy pipeline"): the
// instance's configuration, secrets and certificate; the supervisor and every service up and healthy.
#include "orchestrator/deploy_run.hpp"

namespace dive::orch::detail {

void Deploy::initialize() {
  ensure_dir(paths_.dir, 0755);
  ensure_dir(paths_.logs, 0755);
  ensure_dir(paths_.certs, 0755);
  std::optional<BlacklistAccess> blacklist_pw;
  if (!anchor_) {
    // A spoke of this home uses its hub's revocation store as the limited "spoke" user.
    const Json hub = read_secrets(layout_.instance(std::string(kHubCode)));
    blacklist_pw =
        hub.contains("blacklist_spoke_password")
            ? BlacklistAccess{"spoke", hub.at("blacklist_spoke_password")}
            : BlacklistAccess{"", hub.at("blacklist_redis_password")};  // a hub of an older release
  }
  auto before =
      try_read_file(paths_.instance_json).value_or("") + try_read_file(paths_.secrets_json).value_or("");
  secrets_ = ensure_secrets(paths_, blacklist_pw);
  cfg_ = write_instance_config(layout_, o_.code, o_.profile, o_.port_shift, o_.placement);
  if (o_.seed_count) {
    cfg_["seed"]["count"] = *o_.seed_count;
    write_file_atomic(paths_.instance_json, cfg_.dump(2) + "\n", 0644);
  }
  changed_ = before != read_file(paths_.instance_json) + read_file(paths_.secrets_json);
  out_.info("config " + paths_.instance_json.string() + (changed_ ? "" : " (unchanged)"));
  try {
    if (generate_instance_cert(layout_, o_.code, false)) {
      changed_ = true;
      out_.info("certificate generated (mkcert, ECDSA P-256)");
    } else {
      out_.info("certificate present and valid");
    }
  } catch (const std::exception& e) {
    throw StepFailure(
        errc::kCertGeneration, e.what(),
        "check that mkcert works: CAROOT=" + layout_.ca_dir().string() + " mkcert -ecdsa localhost");
  }
  write_file_atomic(exporter_web_config(paths_), exporter_web_config_text(paths_), 0644);
  store::PgClusterSpec pg;
  pg.data_dir = paths_.pg_data;
  pg.port = static_cast<uint16_t>(cfg_["ports"]["postgres"].get<int>());
  pg.superuser = cfg_["database"].value("user", "dive");
  pg.password = secrets_.at("postgres_password");
  pg.fast_unsafe = cfg_["postgres"].value("fast_unsafe", false);
  pg.shared_buffers = cfg_["postgres"].value("shared_buffers", "32MB");
  bool fresh = !fs::exists(paths_.pg_data / "PG_VERSION");
  store::pg_init_cluster(pg, store::postgres_run_as(), 120s);
  out_.info(fresh ? "PostgreSQL cluster created (initdb)" : "PostgreSQL cluster present");
  store::RedisServerSpec r;
  r.dir = paths_.redis_dir;
  r.port = static_cast<uint16_t>(cfg_["redis"]["port"].get<int>());
  r.password = secrets_.at("redis_password");
  store::redis_write_config(r);
  if (anchor_) {
    store::RedisServerSpec b;
    b.dir = paths_.blacklist_dir;
    b.port = static_cast<uint16_t>(cfg_["blacklist_redis"]["port"].get<int>());
    b.password = secrets_.at("blacklist_redis_password");
    b.maxmemory = "256mb";
    b.maxmemory_policy = "noeviction";  // revocations must never be evicted
    // The spokes of this home: only the revocation keys and channels, and only the commands revocation
    // uses (no CONFIG, FLUSH*, KEYS, DEBUG, ...): a compromised spoke can add revocations, not erase them.
    b.acl_users.push_back(
        {"spoke", secrets_.at("blacklist_spoke_password"), std::string(kSpokeBlacklistRules)});
    store::redis_write_config(b);
  }
}

void Deploy::start_services() {
  bring_supervisor_up();
  if (anchor_ && !db_) {
    if (!wait_for_service(paths_, "postgres", "running", true, 60s))
      throw StepFailure(errc::kServiceTimeout,
                        "PostgreSQL of " + o_.code + " did not become ready within 60 s",
                        "see " + paths_.log("postgres").string());
    attach_db();
  }
  // Meant to run from now on: scraped by the monitoring stack, so an instance that never gets healthy
  // alerts too.
  write_instance_targets(layout_, o_.code);
  wait_services_healthy();
  out_.ok("all services running and healthy");
}

void Deploy::bring_supervisor_up() {
  bool was_running = supervisor_running(paths_);
  if (was_running && !supervises_every_child()) {
    // A supervisor started by an older dive that runs fewer processes (before the exporters): replace it,
    // so that it runs what this binary's instances are made of.
    out_.info("the running supervisor predates this version's processes: restarting the instance");
    // The hub's orchestration database goes down with it: reconnect (and re-take the lock) once it is back.
    if (anchor_) db_.reset();
    stop_instance(paths_, 60s);
    was_running = false;
  }
  if (was_running && changed_) {
    // Services read their configuration and certificate at start; the data stores keep running.
    out_.info("already running: restarting its services for the new configuration");
    for (auto it = service_names().rbegin(); it != service_names().rend(); ++it) {  // dependents first
      try {  // gracefully where the supervisor holds the socket (docs/ORCHESTRATION.md)
        restart_service(paths_, *it, o_.policy.health_timeout);
      } catch (const std::runtime_error& e) {
        throw StepFailure(errc::kServiceTimeout, e.what(), "see " + paths_.log(*it).string());
      }
    }
  } else if (was_running) {
    out_.info("already running with this configuration: nothing to restart");
    for (const auto& svc : service_names())
      service_command(paths_, "start", svc);  // a stopped one comes back
  } else {
    start_supervisor(paths_, o_.dive_exe);
    out_.info("supervisor started (log " + paths_.log("supervisor").string() + ")");
    // Services a supervisor that died left running were taken over; they run the old configuration.
    if (changed_)
      for (const auto& name : restart_adopted_services(paths_))
        out_.info(name + " was left running by a previous supervisor: restarted for the new configuration");
  }
}

void Deploy::wait_services_healthy() {
  std::map<std::string, bool> announced;
  auto t0 = std::chrono::steady_clock::now();
  bool ok = wait_until_healthy(paths_, o_.policy.health_timeout, [&](const Json& st) {
    for (const auto& s : st["services"]) {
      std::string name = s["name"];
      if (s["state"] == "running" && s.value("healthy", false) && !announced[name]) {
        announced[name] = true;
        auto ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0).count();
        out_.info(name + " ready (" + format_duration_ms(ms) + ")");
      }
    }
  });
  if (ok) return;
  Json st = instance_status(paths_, anchor_);
  std::vector<std::string> bad;
  for (const auto& s : st["services"])
    if (!(s["state"] == "running" && s.value("healthy", false)))
      bad.push_back(s["name"].get<std::string>() + " (" + s["state"].get<std::string>() + ")");
  throw StepFailure(
      errc::kServiceUnhealthy,
      "not healthy within " + format_duration_ms(o_.policy.health_timeout.count()) + ": " + join(bad, ", "),
      "see ./dive " + std::string(hub_ ? "hub logs" : "spoke logs " + o_.code) + " <service>");
}

bool Deploy::supervises_every_child() const {
  Json st = instance_status(paths_, anchor_);
  std::set<std::string> running;
  for (const auto& s : st["services"]) running.insert(s.value("name", ""));
  for (const auto& name : child_names(anchor_)) {
    const bool exporter = name.find("-exporter") != std::string::npos;
    if (exporter && !cfg_.value("exporters", Json::object()).value("enabled", true)) continue;
    if (!running.count(name)) return false;
  }
  return true;
}

}  // namespace dive::orch::detail
