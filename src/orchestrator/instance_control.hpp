#pragma once
// The CLI side of running instances: start a detached supervisor, ask it for status, stop/start one
// service, wait for health, and stop everything (falling back to recorded pids when no supervisor
// answers). Only processes recorded by this tool are ever signalled.
#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

// The supervisor's status, or a synthesized one ("stopped" everywhere) when no supervisor answers.
// Adds "running": bool and "instance".
Json instance_status(const InstancePaths& paths, bool hub);
// The same for any supervised unit (the monitoring stack): `names` are its children when none answers.
Json supervised_status(const InstancePaths& paths, const std::vector<std::string>& names);
bool supervisor_running(const InstancePaths& paths);

// Spawns `dive supervise --instance CODE` detached (own session, log in logs/supervisor.log) unless one
// already answers; waits until its control socket answers. Throws with the log tail on failure.
void start_supervisor(const InstancePaths& paths, const std::filesystem::path& dive_exe);

using StatusFn = std::function<void(const Json& status)>;
// Polls until every wanted child is running and healthy; false on timeout (or when the supervisor dies).
bool wait_until_healthy(const InstancePaths& paths, std::chrono::milliseconds timeout,
                        const StatusFn& on_poll = {});

// Asks the supervisor to shut down and waits for it; any recorded process still alive afterwards (or
// when no supervisor answered) is terminated by pid. Returns the number of processes that were running.
int stop_instance(const InstancePaths& paths, std::chrono::milliseconds timeout);

// stop | start | restart one child; throws when the supervisor is not running or refuses. Returns the
// supervisor's answer: a restart says {"graceful": true, "pid", "successor"} when a new process starts beside
// the old one on the same socket (docs/ORCHESTRATION.md, "Graceful restarts").
Json service_command(const InstancePaths& paths, const std::string& cmd, const std::string& service);
// After a restart: waits until the service runs healthy in another process than `old_pid` with no restart
// under way and the old process gone (drained); false on timeout, or when the graceful restart failed (then
// `why` says so).
bool wait_for_replacement(const InstancePaths& paths, const std::string& service, int64_t old_pid,
                          std::chrono::milliseconds timeout, std::string* why = nullptr);
// Restarts one service and waits until it is back: gracefully replaced (wait_for_replacement) or, when the
// supervisor did not hold its socket, running and healthy again. Throws std::runtime_error when the
// supervisor refuses or the service is not back within `timeout` (the message says why).
struct RestartOutcome {
  bool graceful = false;
  int64_t old_pid = 0, new_pid = 0;
};
RestartOutcome restart_service(const InstancePaths& paths, const std::string& service,
                               std::chrono::milliseconds timeout);
// Restarts every DIVE service the running supervisor took over from a previous one (they run the
// configuration they started with); returns their names. Nothing when no supervisor answers.
std::vector<std::string> restart_adopted_services(const InstancePaths& paths);
// Waits until the named child reaches `state` (and, for "running", is healthy when `healthy`).
bool wait_for_service(const InstancePaths& paths, const std::string& service, const std::string& state,
                      bool healthy, std::chrono::milliseconds timeout);

}  // namespace dive::orch
