#pragma once
// The orchestration database (hub PostgreSQL, database "orchestration"): deployment states with
// validated transitions, steps, errors, metrics, checkpoints, the deployment lock (a session advisory
// lock held by this object's connection for its whole life) and persisted circuit breakers.
// Every statement is parameterised.
#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "orchestrator/state_machine.hpp"

#include <pqxx/connection>

namespace dive::orch {

class InvalidTransition : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Error codes (numbering of the system we replace, so operators' runbooks carry over).
namespace errc {
inline constexpr const char* kInstanceConflict = "1007";
inline constexpr const char* kCertGeneration = "1101";
inline constexpr const char* kDirectorySetup = "1106";
inline constexpr const char* kConfigGenerate = "1107";
inline constexpr const char* kServiceStart = "1201";
inline constexpr const char* kServiceUnhealthy = "1202";
inline constexpr const char* kServiceTimeout = "1204";
inline constexpr const char* kHealthCheck = "1401";
inline constexpr const char* kDatabaseCheck = "1406";
inline constexpr const char* kFederationJoin = "1601";  // the hub (or the pinned CA) refused the join
inline constexpr const char* kUnknown = "1501";
inline constexpr const char* kStateInvalid = "1505";
inline constexpr const char* kStateRollback = "STATE_ROLLBACK";
}  // namespace errc

struct PersistedBreakerCheck {
  bool allowed = true;
  std::string state = "CLOSED";
  int failures = 0;
  Millis retry_after{0};
};

class OrchDb {
 public:
  // Connects (throws std::runtime_error when the database cannot be reached) and applies migrations.
  explicit OrchDb(const std::string& conninfo);
  ~OrchDb();
  OrchDb(const OrchDb&) = delete;
  OrchDb& operator=(const OrchDb&) = delete;

  DeployState current_state(const std::string& code);
  // Records a validated transition (deployment_states + state_transitions + a metric, one transaction).
  // An invalid one is refused: recorded in orchestration_errors (1505) and thrown as InvalidTransition.
  void set_state(const std::string& code, DeployState to, const std::string& reason,
                 const Json& metadata = Json::object(), const std::string& by = "cli");
  // Moves to the state before the current one (an operator override, marked initiated_by=rollback),
  // and logs a resolved STATE_ROLLBACK error. Returns {from, to}; throws when there is nothing to roll back
  // to.
  std::pair<DeployState, DeployState> rollback(const std::string& code);

  int step_begin(const std::string& code, const std::string& step);
  void step_end(int id, const std::string& status, const std::string& error = "", int retries = 0,
                const Json& metadata = Json::object());
  void record_error(const std::string& code, const std::string& error_code, int severity,
                    const std::string& component, const std::string& message,
                    const std::string& remediation = "", const Json& context = Json::object());
  void resolve_errors(const std::string& code, const std::string& by);
  void record_metric(const std::string& code, const std::string& name, double value, const std::string& unit,
                     const Json& labels = Json::object());
  void add_checkpoint(const std::string& code, const std::string& level, const std::string& description,
                      const Json& metadata = Json::object());

  // The deployment lock of an instance: pg_try_advisory_lock on this session, polled until `timeout`.
  // Returns false when another session holds it (then `holder` names it, from deployment_locks).
  bool acquire_deploy_lock(const std::string& code, std::chrono::milliseconds timeout,
                           std::string* holder = nullptr);
  void release_deploy_lock(const std::string& code);

  // Persisted breaker around an operation: CLOSED -> OPEN after `threshold` consecutive failures; OPEN
  // refuses until `cooldown` has passed since the last failure, then HALF_OPEN lets one attempt through.
  PersistedBreakerCheck breaker_check(const std::string& op, int threshold, std::chrono::seconds cooldown);
  void breaker_success(const std::string& op);
  void breaker_failure(const std::string& op, int threshold, const std::string& error);
  void breaker_reset(const std::string& op);

  Json status_report();  // counts, current states, breakers, open locks, recent errors
  Json validate(
      const std::optional<std::string>& code);  // consistency findings: {"ok":bool,"findings":[...]}

  static int64_t lock_key(const std::string& code);  // cksum("deployment_<code lower>")

  // What monitoring exports (monitoring/monitor_metrics.hpp), read on any connection to the orchestration
  // database without applying migrations: per deployed instance its current state and its last finished
  // deploy (result, duration, time), every persisted breaker, and unresolved errors per instance.
  // Instances whose state is UNKNOWN (never deployed, or nuked) are left out.
  static Json monitoring_snapshot(pqxx::connection& c);

 private:
  std::unique_ptr<pqxx::connection> conn_;
  std::optional<std::string> held_lock_;
};

}  // namespace dive::orch
