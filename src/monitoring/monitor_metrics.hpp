#pragma once
// What the `monitor` service exports about the rest of the home (docs/MONITORING.md): the supervisors'
// view of every monitored instance, and the orchestration database's deployment state and circuit
// breakers. Rendered as Prometheus text from snapshots, since instances and breakers come and go.
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace dive::monitoring {

struct SupervisorSample {
  std::string code;
  std::optional<Json> status;  // the supervisor's "status" answer; nullopt when it did not answer
};

// dive_v3_supervisor_up{instance_code}; per child dive_v3_supervised_{up,wanted,restarts_total,
// last_exit_timestamp_seconds,last_exit_info}{instance_code,component[,reason]}.
std::string supervisor_metrics(const std::vector<SupervisorSample>& samples);

// dive_v3_orchestration_db_up, and from a snapshot {"deployments":[{instance_code,state,last_result,
// last_duration_seconds,last_finished_seconds}], "breakers":[{operation,instance_code,state,failures}],
// "errors":[{instance_code,unresolved}]}: dive_v3_deployment_state{instance_code,state},
// dive_v3_deployment_last_success, _last_duration_seconds, _last_timestamp_seconds,
// dive_v3_orchestration_breaker_state (0 closed, 1 half-open, 2 open), _breaker_failures,
// dive_v3_orchestration_errors_unresolved. nullopt: the database did not answer (only db_up 0).
std::string orchestration_metrics(const std::optional<Json>& snapshot);

}  // namespace dive::monitoring
