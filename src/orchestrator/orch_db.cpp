#include "orchestrator/orch_db.hpp"

#include <unistd.h>

#include <pqxx/pqxx>
#include <thread>

#include "common/process.hpp"
#include "common/strings.hpp"
#include "orchestrator/ports.hpp"
#include "store/embedded_migrations.hpp"
#include "store/migrations.hpp"

namespace dive::orch {

namespace {
constexpr int64_t kMigrationLockKey = 0x0D1E0001;

std::string hostname() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}
}  // namespace

int64_t OrchDb::lock_key(const std::string& code) {
  return posix_cksum("deployment_" + to_lower(code));
}

OrchDb::OrchDb(const std::string& conninfo) {
  try {
    conn_ = std::make_unique<pqxx::connection>(conninfo);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("cannot reach the orchestration database: ") + trim(e.what()));
  }
  store::apply_migrations(*conn_, store::orchestration_migrations(), kMigrationLockKey);
}

OrchDb::~OrchDb() {
  if (held_lock_) {
    try {
      release_deploy_lock(*held_lock_);
    } catch (...) {
    }
  }
}

DeployState OrchDb::current_state(const std::string& code) {
  pqxx::nontransaction tx(*conn_);
  auto r = tx.exec_params("SELECT get_current_state($1)", code);
  return parse_state(r[0][0].c_str()).value_or(DeployState::Unknown);
}

void OrchDb::set_state(const std::string& code, DeployState to, const std::string& reason,
                       const Json& metadata, const std::string& by) {
  DeployState from = current_state(code);
  if (!transition_allowed(from, to)) {
    std::string msg =
        std::string("invalid state transition ") + to_string(from) + " -> " + to_string(to) + " for " + code;
    record_error(code, errc::kStateInvalid, 2, "state-machine", msg,
                 "finish or roll back the current deployment first (./dive orch-db rollback " + code + ")",
                 Json{{"from", to_string(from)}, {"to", to_string(to)}, {"reason", reason}});
    throw InvalidTransition(msg);
  }
  pqxx::work tx(*conn_);
  auto last = tx.exec_params(
      "SELECT EXTRACT(EPOCH FROM clock_timestamp() - \"timestamp\")::int FROM deployment_states "
      "WHERE instance_code = $1 ORDER BY \"timestamp\" DESC, id DESC LIMIT 1",
      code);
  std::optional<int> duration;
  if (!last.empty() && !last[0][0].is_null()) duration = last[0][0].as<int>();
  tx.exec_params(
      "INSERT INTO deployment_states (instance_code, state, previous_state, reason, metadata, created_by) "
      "VALUES ($1, $2, $3, $4, $5::jsonb, $6)",
      code, to_string(to), to_string(from), reason, metadata.dump(), by);
  tx.exec_params(
      "INSERT INTO state_transitions (instance_code, from_state, to_state, duration_seconds, initiated_by, "
      "metadata) "
      "VALUES ($1, $2, $3, $4, $5, $6::jsonb)",
      code, to_string(from), to_string(to), duration, by, Json{{"reason", reason}}.dump());
  tx.exec_params(
      "INSERT INTO orchestration_metrics (instance_code, metric_name, metric_value, metric_unit, labels) "
      "VALUES ($1, 'state_transition_success', 1, 'count', $2::jsonb)",
      code, Json{{"from", to_string(from)}, {"to", to_string(to)}}.dump());
  tx.commit();
}

std::pair<DeployState, DeployState> OrchDb::rollback(const std::string& code) {
  pqxx::work tx(*conn_);
  auto r = tx.exec_params(
      "SELECT state, previous_state FROM deployment_states WHERE instance_code = $1 "
      "ORDER BY \"timestamp\" DESC, id DESC LIMIT 1",
      code);
  if (r.empty() || r[0][1].is_null())
    throw std::runtime_error("no recorded state of " + code + " to roll back");
  DeployState from = parse_state(r[0][0].c_str()).value_or(DeployState::Unknown);
  DeployState to = parse_state(r[0][1].c_str()).value_or(DeployState::Unknown);
  if (from == to)
    throw std::runtime_error(code + " is already in " + to_string(to) + "; nothing to roll back");
  tx.exec_params(
      "INSERT INTO deployment_states (instance_code, state, previous_state, reason, metadata, created_by) "
      "VALUES ($1, $2, $3, 'rollback', '{}'::jsonb, 'rollback_system')",
      code, to_string(to), to_string(from));
  tx.exec_params(
      "INSERT INTO state_transitions (instance_code, from_state, to_state, initiated_by, metadata) "
      "VALUES ($1, $2, $3, 'rollback', $4::jsonb)",
      code, to_string(from), to_string(to), Json{{"reason", "operator rollback"}}.dump());
  tx.exec_params(
      "INSERT INTO orchestration_errors (instance_code, error_code, severity, component, message, resolved, "
      "resolved_at, resolved_by) VALUES ($1, $2, 2, 'state-machine', $3, true, clock_timestamp(), "
      "'rollback_system')",
      code, errc::kStateRollback,
      std::string("state rolled back from ") + to_string(from) + " to " + to_string(to));
  tx.commit();
  return {from, to};
}

int OrchDb::step_begin(const std::string& code, const std::string& step) {
  pqxx::work tx(*conn_);
  auto r = tx.exec_params(
      "INSERT INTO deployment_steps (instance_code, step_name, status) VALUES ($1, $2, 'IN_PROGRESS') "
      "RETURNING id",
      code, step);
  tx.commit();
  return r[0][0].as<int>();
}

void OrchDb::step_end(int id, const std::string& status, const std::string& error, int retries,
                      const Json& metadata) {
  pqxx::work tx(*conn_);
  tx.exec_params(
      "UPDATE deployment_steps SET status = $2, completed_at = clock_timestamp(), error_message = NULLIF($3, "
      "''), "
      "retry_count = $4, metadata = $5::jsonb WHERE id = $1",
      id, status, error, retries, metadata.dump());
  tx.commit();
}

void OrchDb::record_error(const std::string& code, const std::string& error_code, int severity,
                          const std::string& component, const std::string& message,
                          const std::string& remediation, const Json& context) {
  pqxx::work tx(*conn_);
  tx.exec_params(
      "INSERT INTO orchestration_errors (instance_code, error_code, severity, component, message, "
      "remediation, context) "
      "VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''), $7::jsonb)",
      code, error_code, severity, component, message, remediation, context.dump());
  tx.commit();
}

void OrchDb::resolve_errors(const std::string& code, const std::string& by) {
  pqxx::work tx(*conn_);
  tx.exec_params(
      "UPDATE orchestration_errors SET resolved = true, resolved_at = clock_timestamp(), resolved_by = $2 "
      "WHERE instance_code = $1 AND NOT resolved",
      code, by);
  tx.commit();
}

void OrchDb::record_metric(const std::string& code, const std::string& name, double value,
                           const std::string& unit, const Json& labels) {
  pqxx::work tx(*conn_);
  tx.exec_params(
      "INSERT INTO orchestration_metrics (instance_code, metric_name, metric_value, metric_unit, labels) "
      "VALUES ($1, $2, $3, $4, $5::jsonb)",
      code, name, value, unit, labels.dump());
  tx.commit();
}

void OrchDb::add_checkpoint(const std::string& code, const std::string& level, const std::string& description,
                            const Json& metadata) {
  pqxx::work tx(*conn_);
  auto id = code + "-" + to_lower(level) + "-" +
            std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count());
  tx.exec_params(
      "INSERT INTO checkpoints (checkpoint_id, instance_code, checkpoint_level, description, metadata) "
      "VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (checkpoint_id) DO NOTHING",
      id, code, level, description, metadata.dump());
  tx.commit();
}

bool OrchDb::acquire_deploy_lock(const std::string& code, std::chrono::milliseconds timeout,
                                 std::string* holder) {
  const int64_t key = lock_key(code);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    bool got;
    {
      pqxx::nontransaction tx(*conn_);
      got = tx.exec_params("SELECT pg_try_advisory_lock($1)", key)[0][0].as<bool>();
    }
    if (got) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      if (holder) {
        pqxx::nontransaction tx(*conn_);
        auto r = tx.exec_params(
            "SELECT acquired_by, pid, hostname, acquired_at::text FROM deployment_locks "
            "WHERE instance_code = $1 AND released_at IS NULL ORDER BY acquired_at DESC LIMIT 1",
            code);
        *holder = r.empty() ? "another session"
                            : std::string(r[0][0].c_str()) + " (pid " + r[0][1].c_str() + " on " +
                                  r[0][2].c_str() + ", since " + r[0][3].c_str() + ")";
      }
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  pqxx::work tx(*conn_);
  // Rows of locks whose session is gone (a killed deploy) are closed: the advisory lock is the truth.
  tx.exec_params(
      "UPDATE deployment_locks SET released_at = clock_timestamp() WHERE instance_code = $1 AND released_at "
      "IS NULL",
      code);
  tx.exec_params(
      "INSERT INTO deployment_locks (instance_code, lock_id, acquired_by, hostname, pid) VALUES ($1, $2, $3, "
      "$4, $5)",
      code, key, "dive-cli", hostname(), static_cast<int>(::getpid()));
  tx.commit();
  held_lock_ = code;
  return true;
}

void OrchDb::release_deploy_lock(const std::string& code) {
  if (held_lock_ != code) return;
  pqxx::work tx(*conn_);
  tx.exec_params(
      "UPDATE deployment_locks SET released_at = clock_timestamp() WHERE instance_code = $1 AND pid = $2 AND "
      "released_at IS NULL",
      code, static_cast<int>(::getpid()));
  tx.exec_params("SELECT pg_advisory_unlock($1)", lock_key(code));
  tx.commit();
  held_lock_.reset();
}

PersistedBreakerCheck OrchDb::breaker_check(const std::string& op, int threshold,
                                            std::chrono::seconds cooldown) {
  pqxx::work tx(*conn_);
  tx.exec_params(
      "INSERT INTO circuit_breakers (operation_name) VALUES ($1) ON CONFLICT (operation_name) DO NOTHING",
      op);
  auto r = tx.exec_params(
      "SELECT state, failure_count, EXTRACT(EPOCH FROM (now() - last_failure_time)) FROM circuit_breakers "
      "WHERE operation_name = $1 FOR UPDATE",
      op);
  PersistedBreakerCheck c;
  c.state = r[0][0].c_str();
  c.failures = r[0][1].as<int>();
  if (c.state == "OPEN") {
    double since = r[0][2].is_null() ? 1e9 : r[0][2].as<double>();
    if (since >= static_cast<double>(cooldown.count())) {
      tx.exec_params(
          "UPDATE circuit_breakers SET state = 'HALF_OPEN', last_state_change = now() WHERE operation_name = "
          "$1",
          op);
      c.state = "HALF_OPEN";
    } else {
      c.allowed = false;
      c.retry_after =
          Millis(static_cast<int64_t>((static_cast<double>(cooldown.count()) - since) * 1000.0) + 1);
    }
  }
  (void)threshold;
  tx.commit();
  return c;
}

void OrchDb::breaker_success(const std::string& op) {
  pqxx::work tx(*conn_);
  tx.exec_params(
      "INSERT INTO circuit_breakers (operation_name) VALUES ($1) ON CONFLICT (operation_name) DO NOTHING",
      op);
  tx.exec_params(
      "UPDATE circuit_breakers SET success_count = success_count + 1, failure_count = 0, last_success_time = "
      "now(), "
      "last_state_change = CASE WHEN state <> 'CLOSED' THEN now() ELSE last_state_change END, state = "
      "'CLOSED' "
      "WHERE operation_name = $1",
      op);
  tx.commit();
}

void OrchDb::breaker_failure(const std::string& op, int threshold, const std::string& error) {
  pqxx::work tx(*conn_);
  tx.exec_params(
      "INSERT INTO circuit_breakers (operation_name) VALUES ($1) ON CONFLICT (operation_name) DO NOTHING",
      op);
  tx.exec_params(
      "UPDATE circuit_breakers SET failure_count = failure_count + 1, last_failure_time = now(), "
      "state = CASE WHEN state = 'HALF_OPEN' OR failure_count + 1 >= $2 THEN 'OPEN' ELSE state END, "
      "last_state_change = CASE WHEN state <> 'OPEN' AND (state = 'HALF_OPEN' OR failure_count + 1 >= $2) "
      "THEN now() ELSE last_state_change END, "
      "metadata = COALESCE(metadata, '{}'::jsonb) || jsonb_build_object('last_error', $3::text) "
      "WHERE operation_name = $1",
      op, threshold, error.substr(0, 500));
  tx.commit();
}

void OrchDb::breaker_reset(const std::string& op) {
  pqxx::work tx(*conn_);
  tx.exec_params(
      "UPDATE circuit_breakers SET state = 'CLOSED', failure_count = 0, last_state_change = now() "
      "WHERE operation_name = $1",
      op);
  tx.commit();
}

Json OrchDb::monitoring_snapshot(pqxx::connection& c) {
  pqxx::read_transaction tx(c);
  Json deployments = Json::array();
  for (const auto& row : tx.exec(R"SQL(
      WITH cur AS (SELECT DISTINCT ON (instance_code) instance_code, state FROM deployment_states
                   ORDER BY instance_code, "timestamp" DESC, id DESC),
           fin AS (SELECT DISTINCT ON (instance_code) instance_code, state AS result, "timestamp" AS finished
                   FROM deployment_states WHERE state IN ('COMPLETE', 'FAILED')
                   ORDER BY instance_code, "timestamp" DESC, id DESC)
      SELECT cur.instance_code, cur.state, fin.result, extract(epoch FROM fin.finished)::float8,
             extract(epoch FROM fin.finished - (SELECT max(s."timestamp") FROM deployment_states s
                                                WHERE s.instance_code = fin.instance_code
                                                  AND s.state = 'INITIALIZING' AND s."timestamp" <= fin.finished))::float8
      FROM cur LEFT JOIN fin USING (instance_code)
      WHERE cur.state <> 'UNKNOWN' ORDER BY 1)SQL")) {
    Json d = {{"instance_code", row[0].c_str()}, {"state", row[1].c_str()}};
    if (!row[2].is_null()) d["last_result"] = row[2].c_str();
    if (!row[3].is_null()) d["last_finished_seconds"] = row[3].as<double>();
    if (!row[4].is_null()) d["last_duration_seconds"] = row[4].as<double>();
    deployments.push_back(d);
  }
  Json breakers = Json::array();
  for (const auto& row :
       tx.exec("SELECT operation_name, state, failure_count FROM circuit_breakers ORDER BY 1")) {
    const std::string op = row[0].c_str();
    auto colon = op.find(':');
    breakers.push_back(Json{{"operation", colon == std::string::npos ? op : op.substr(0, colon)},
                            {"instance_code", colon == std::string::npos ? "" : op.substr(colon + 1)},
                            {"state", row[1].c_str()},
                            {"failures", row[2].as<int>()}});
  }
  Json errors = Json::array();
  for (const auto& row : tx.exec("SELECT instance_code, count(*) FROM orchestration_errors "
                                 "WHERE NOT resolved AND instance_code IS NOT NULL GROUP BY 1 ORDER BY 1"))
    errors.push_back(Json{{"instance_code", row[0].c_str()}, {"unresolved", row[1].as<int64_t>()}});
  return Json{{"deployments", deployments}, {"breakers", breakers}, {"errors", errors}};
}

Json OrchDb::status_report() {
  Json out;
  out["schemaVersion"] = store::current_schema_version(*conn_);  // before our transaction: it opens its own
  pqxx::nontransaction tx(*conn_);
  Json counts = Json::object();
  for (const char* t : {"deployment_states", "state_transitions", "deployment_steps", "deployment_locks",
                        "circuit_breakers", "orchestration_errors", "orchestration_metrics", "checkpoints"}) {
    counts[t] = tx.exec(std::string("SELECT count(*) FROM ") + t)[0][0].as<int64_t>();
  }
  out["tables"] = counts;
  Json instances = Json::array();
  for (const auto& row : tx.exec("SELECT DISTINCT ON (instance_code) instance_code, state, "
                                 "\"timestamp\"::text, reason FROM deployment_states "
                                 "ORDER BY instance_code, \"timestamp\" DESC, id DESC")) {
    instances.push_back(Json{{"code", row[0].c_str()},
                             {"state", row[1].c_str()},
                             {"since", row[2].c_str()},
                             {"reason", row[3].is_null() ? "" : row[3].c_str()}});
  }
  out["instances"] = instances;
  Json breakers = Json::array();
  for (const auto& row : tx.exec("SELECT operation_name, state, failure_count, last_failure_time::text FROM "
                                 "circuit_breakers ORDER BY 1")) {
    breakers.push_back(Json{{"operation", row[0].c_str()},
                            {"state", row[1].c_str()},
                            {"failures", row[2].as<int>()},
                            {"lastFailure", row[3].is_null() ? "" : row[3].c_str()}});
  }
  out["breakers"] = breakers;
  Json locks = Json::array();
  for (const auto& row :
       tx.exec("SELECT instance_code, acquired_by, pid, hostname, acquired_at::text FROM deployment_locks "
               "WHERE released_at IS NULL ORDER BY acquired_at")) {
    locks.push_back(Json{{"code", row[0].c_str()},
                         {"by", row[1].c_str()},
                         {"pid", row[2].as<int>()},
                         {"host", row[3].c_str()},
                         {"since", row[4].c_str()}});
  }
  out["openLocks"] = locks;
  out["unresolvedErrors"] =
      tx.exec("SELECT count(*) FROM orchestration_errors WHERE NOT resolved")[0][0].as<int64_t>();
  return out;
}

Json OrchDb::validate(const std::optional<std::string>& code) {
  pqxx::nontransaction tx(*conn_);
  Json findings = Json::array();
  auto add = [&](const std::string& severity, const std::string& what) {
    findings.push_back(Json{{"severity", severity}, {"finding", what}});
  };
  std::string filter = code ? " WHERE instance_code = $1" : "";
  auto params_exec = [&](const std::string& sql) { return code ? tx.exec_params(sql, *code) : tx.exec(sql); };
  // 1. The latest state row and the latest transition agree.
  for (const auto& row : params_exec(
           "SELECT s.instance_code, s.state, t.to_state FROM "
           "(SELECT DISTINCT ON (instance_code) instance_code, state FROM deployment_states" +
           filter +
           " ORDER BY instance_code, \"timestamp\" DESC, id DESC) s LEFT JOIN "
           "(SELECT DISTINCT ON (instance_code) instance_code, to_state FROM state_transitions" +
           filter + " ORDER BY instance_code, transition_time DESC, id DESC) t USING (instance_code)")) {
    if (row[2].is_null() || std::string(row[1].c_str()) != row[2].c_str())
      add("error", std::string(row[0].c_str()) + ": current state " + row[1].c_str() +
                       " does not match the last transition (" +
                       (row[2].is_null() ? "none" : row[2].c_str()) + ")");
  }
  // 2. Every recorded transition is valid (rollbacks are marked).
  for (const auto& row : params_exec("SELECT instance_code, COALESCE(from_state, 'UNKNOWN'), to_state, "
                                     "transition_time::text FROM state_transitions" +
                                     filter + (code ? " AND" : " WHERE") + " initiated_by <> 'rollback'")) {
    auto from = parse_state(row[1].c_str()), to = parse_state(row[2].c_str());
    if (!from || !to || !transition_allowed(*from, *to))
      add("error", std::string(row[0].c_str()) + ": invalid transition " + row[1].c_str() + " -> " +
                       row[2].c_str() + " at " + row[3].c_str());
  }
  // 3. Lock rows still open whose process is gone.
  for (const auto& row : params_exec("SELECT instance_code, pid, hostname FROM deployment_locks" + filter +
                                     (code ? " AND" : " WHERE") + " released_at IS NULL")) {
    pid_t pid = row[1].as<int>();
    if (std::string(row[2].c_str()) == hostname() && !pid_alive(pid))
      add("warning", std::string(row[0].c_str()) + ": lock row of pid " + std::to_string(pid) +
                         " is still open but the process is gone (closed at the next deploy)");
  }
  // 4. Steps left IN_PROGRESS by a deploy that died.
  for (const auto& row :
       params_exec("SELECT instance_code, step_name, started_at::text FROM deployment_steps" + filter +
                   (code ? " AND" : " WHERE") +
                   " status = 'IN_PROGRESS' AND started_at < now() - interval '1 hour'")) {
    add("warning", std::string(row[0].c_str()) + ": step " + row[1].c_str() + " started " + row[2].c_str() +
                       " never finished");
  }
  bool ok = true;
  for (const auto& f : findings)
    if (f["severity"] == "error") ok = false;
  return Json{{"ok", ok}, {"findings", findings}};
}

}  // namespace dive::orch
