#include "orchestrator/upgrade.hpp"

#include <pqxx/pqxx>

#include <optional>

#include "orchestrator/child_spec.hpp"
#include "orchestrator/control_socket.hpp"
#include "orchestrator/db_roles.hpp"
#include "orchestrator/file_lock.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/instance_control.hpp"
#include "orchestrator/orch_db.hpp"
#include "orchestrator/pipeline.hpp"
#include "store/embedded_migrations.hpp"
#include "store/local_postgres.hpp"
#include "store/migrations.hpp"

namespace dive::orch {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The instance database as its owner (the supervisor's credentials: migrations and grants need them).
std::string owner_conninfo(const Json& cfg, const Json& secrets) {
  const Json& d = cfg.at("database");
  return store::pg_conninfo("127.0.0.1", static_cast<uint16_t>(d.value("port", 5432)),
                            d.value("name", "dive"), d.value("user", "dive"),
                            secrets.at("postgres_password").get<std::string>(), 5);
}

// Forward-only: every migration this binary has and the database has not, with the services' grants, under
// the migrations' advisory lock. A database newer than this binary is refused before anything changes.
void migrate(const Json& cfg, const Json& secrets, UpgradeResult& r, const Console& out) {
  pqxx::connection conn(owner_conninfo(cfg, secrets));
  r.schema_before = store::current_schema_version(conn);
  const auto& known = store::instance_migrations();
  const int newest = known.empty() ? 0 : known.back().version;
  if (r.schema_before > newest) throw store::SchemaTooNew(r.schema_before, newest);
  std::map<std::string, std::string> roles;
  const Json role_passwords = secrets.value("database_roles", Json::object());
  for (const auto& [svc, pw] : role_passwords.items())
    if (pw.is_string()) roles[svc] = pw.get<std::string>();
  ensure_db_roles(conn, roles);
  r.schema_after = store::current_schema_version(conn);
  for (const auto& m : known)
    if (m.version > r.schema_before && m.version <= r.schema_after)
      r.migrations_applied.push_back(std::to_string(m.version) + " " + m.name);
  if (r.schema_after == r.schema_before)
    out.ok("database schema at version " + std::to_string(r.schema_after) + ": nothing to migrate");
  else
    out.ok("database migrated from schema " + std::to_string(r.schema_before) + " to " +
           std::to_string(r.schema_after) + " (" + std::to_string(r.migrations_applied.size()) +
           " migration(s))");
}

// One service: a graceful restart (a new process beside the old one on the same socket), waited for.
void restart_service(const InstancePaths& paths, const std::string& svc, const UpgradeOptions& o,
                     UpgradeResult& r, const Console& out) {
  const auto t0 = Clock::now();
  RestartOutcome back;
  try {
    back = orch::restart_service(paths, svc, o.service_timeout);
  } catch (const std::exception& e) {
    throw Failure(std::string(e.what()) + " (see ./dive logs)");
  }
  const bool graceful = back.graceful;
  const int64_t old_pid = back.old_pid, new_pid = back.new_pid;
  const double secs = seconds_since(t0);
  r.services.push_back(Json{{"name", svc},
                            {"oldPid", old_pid ? Json(old_pid) : Json(nullptr)},
                            {"newPid", new_pid ? Json(new_pid) : Json(nullptr)},
                            {"graceful", graceful},
                            {"seconds", secs}});
  char took[32];
  std::snprintf(took, sizeof took, "%.1f s", secs);
  out.ok(svc + (graceful ? " replaced without closing its port (pid " + std::to_string(old_pid) + " -> " +
                               std::to_string(new_pid) + ", " + took + ")"
                         : " restarted (stop and start: the supervisor did not hold its socket; " +
                               std::string(took) + ")"));
}

}  // namespace

Json UpgradeResult::to_json() const {
  return Json{{"ok", exit_code == 0},
              {"reason", reason.empty() ? Json(nullptr) : Json(reason)},
              {"backup", backup_file.empty() ? Json(nullptr) : Json(backup_file)},
              {"schemaBefore", schema_before},
              {"schemaAfter", schema_after},
              {"migrationsApplied", migrations_applied},
              {"services", services},
              {"seconds", seconds}};
}

UpgradeResult upgrade_instance(const Layout& layout, const UpgradeOptions& o, const Console& out) {
  UpgradeResult r;
  const auto t0 = Clock::now();
  const InstancePaths paths = layout.instance(o.code);
  try {
    if (!supervisor_running(paths))
      throw Failure(o.code + " is not running: start it (up, or deploy) before upgrading it");
    const Json cfg = read_instance_config(paths);
    const Json secrets = read_secrets(paths);

    out.step("LOCKING " + o.code);
    int holder = -1;
    auto file_lock = FileLock::try_acquire(paths.deploy_lock, &holder);
    if (!file_lock)
      throw Failure("a deploy or upgrade of " + o.code + " is in progress (pid " + std::to_string(holder) +
                    ")");
    std::optional<OrchDb> db;
    db.emplace(orchestration_conninfo(layout, o.code));
    std::string lock_holder;
    if (!db->acquire_deploy_lock(o.code, o.lock_timeout, &lock_holder))
      throw Failure("another deploy of " + o.code + " holds the deployment lock: " + lock_holder);
    out.ok("deployment lock held");

    if (o.backup) {
      out.step("BACKING UP " + o.code);
      r.backup_file = o.backup();
      out.ok("backup " + r.backup_file);
    } else {
      out.warn("no backup taken (--no-backup)");
    }

    out.step("MIGRATING " + o.code);
    migrate(cfg, secrets, r, out);

    out.step("RESTARTING the services of " + o.code + " one at a time");
    for (const auto& svc : service_names()) restart_service(paths, svc, o, r, out);

    out.step("VERIFYING " + o.code);
    if (!wait_until_healthy(paths, o.service_timeout))
      throw Failure(o.code + " is not healthy after the upgrade (see ./dive status)");
    out.ok(o.code + " upgraded and healthy");
    db->release_deploy_lock(o.code);
  } catch (const std::exception& e) {
    r.exit_code = 1;
    r.reason = e.what();
    out.fail("upgrade of " + o.code + " stopped: " + r.reason);
  }
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace dive::orch
