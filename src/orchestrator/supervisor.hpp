#pragma once
// The per-instance supervisor (docs/ORCHESTRATION.md): starts its children in dependency order, each only
// after the ones before it are ready (or their readiness timed out); restarts a crashed child with
// exponential backoff and jitter (reset once it has been healthy for a while); kills and restarts a service
// whose liveness probe keeps failing; keeps a deliberately stopped child stopped; stops everything in reverse
// order on SIGTERM/SIGINT or a shutdown request; takes over the children a previous supervisor left running
// when it died. Controlled over a Unix socket (control_socket.hpp).
//
// Thread-safe: run() serves signals, the control socket, reaping and the ticks on the calling thread while
// a health thread probes the children; request_shutdown() and status() may be called from any thread. mu_
// guards the children's records (a nested struct, which the analysis cannot tie to mu_: every helper that
// takes a Child requires mu_), the listening sockets and the retiring processes; the flags are atomics.
#include <sys/types.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mutex.hpp"
#include "common/process.hpp"
#include "orchestrator/child_schedule.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/probes.hpp"

namespace dive::orch {

struct SupervisorOptions : SupervisionTimings {
  std::string code;
  std::filesystem::path socket;   // control socket
  std::filesystem::path run_dir;  // <svc>.pid files
  static SupervisorOptions from_config(const Json& cfg, const InstancePaths& paths);
};

enum class ChildPhase { Stopped, Starting, Running, Crashed, Stopping };
const char* to_string(ChildPhase p);  // stopped, starting, running, crashed, stopping

class Supervisor {
 public:
  // Every time-driven decision reads `clock` (a fake one in tests).
  Supervisor(SupervisorOptions opts, std::vector<ChildSpec> children, Prober& prober,
             Clock& clock = Clock::system());
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Runs until shutdown; returns the process exit code. Handles SIGTERM/SIGINT/SIGHUP itself.
  int run();
  void request_shutdown();
  Json status();

 private:
  struct Child;
  void tick() EXCLUDES(mu_);
  void reap() EXCLUDES(mu_);
  void health_loop() EXCLUDES(mu_);
  void spawn_child(Child& c) REQUIRES(mu_);
  void signal_child(Child& c, int sig) REQUIRES(mu_);
  bool deps_ready(size_t index) const REQUIRES(mu_);
  Json handle(const Json& request) EXCLUDES(mu_);
  void serve_control(int listen_fd);
  void write_pidfile(const Child& c) const REQUIRES(mu_);  // via pidfile.hpp
  void remove_pidfile(const Child& c) const REQUIRES(mu_);
  void adopt_stale_children() REQUIRES(mu_);
  void on_exit(Child& c, const std::string& how) REQUIRES(mu_);
  // Graceful restarts (docs/ORCHESTRATION.md): the listening socket of a service's port, created on its first
  // start and handed to every process of it; -1 when it cannot be bound (the process then binds the port).
  int listener_for(const Child& c) REQUIRES(mu_);
  SpawnOptions spawn_options(Child& c, int listen_fd) const REQUIRES(mu_);
  bool start_successor(Child& c) REQUIRES(mu_);  // false: no graceful restart possible
  void advance_reloads(SteadyTime now) REQUIRES(mu_);

  SupervisorOptions opts_;
  std::vector<std::unique_ptr<Child>> children_;  // the vector is fixed at construction; each Child: mu_
  Prober& prober_;
  Clock& clock_;
  mutable Mutex mu_;
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> stop_health_{false};
  SteadyTime started_at_;
  std::thread health_thread_;
  std::map<std::string, int> listeners_ GUARDED_BY(mu_);  // service -> listening socket
  // Processes replaced by a graceful restart (draining), or successors that failed: reaped, or killed after
  // the stop grace.
  struct Retiring {
    pid_t pid;
    SteadyTime kill_at;
    std::string name;
    int pidfd = -1;  // a process taken over from a previous supervisor (not our child): its exit shows here
  };
  std::vector<Retiring> retiring_ GUARDED_BY(mu_);
};

}  // namespace dive::orch
