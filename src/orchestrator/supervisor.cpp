#include "orchestrator/supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/fs.hpp"
#include "common/mutex.hpp"
#include "common/process.hpp"
#include "common/settings.hpp"
#include "common/strings.hpp"
#include "orchestrator/control_socket.hpp"
#include "orchestrator/listen_socket.hpp"
#include "orchestrator/pidfile.hpp"

namespace dive::orch {

const char* to_string(ChildPhase p) {
  switch (p) {
    case ChildPhase::Stopped:
      return "stopped";
    case ChildPhase::Starting:
      return "starting";
    case ChildPhase::Running:
      return "running";
    case ChildPhase::Crashed:
      return "crashed";
    case ChildPhase::Stopping:
      return "stopping";
  }
  return "unknown";
}

SupervisorOptions SupervisorOptions::from_config(const Json& cfg, const InstancePaths& paths) {
  SupervisorOptions o;  // the defaults: SupervisionTimings
  o.code = cfg.at("code");
  o.socket = paths.socket;
  o.run_dir = paths.run;
  const SettingsReader r(cfg);
  o.health_interval = r.millis("supervisor.health_interval_ms", o.health_interval);
  o.ready_timeout = r.millis("supervisor.ready_timeout_ms", o.ready_timeout);
  o.stable_after = r.millis("supervisor.stable_after_ms", o.stable_after);
  o.stop_grace = r.millis("supervisor.stop_grace_ms", o.stop_grace);
  o.restart.initial = r.millis("supervisor.restart_initial_ms", o.restart.initial);
  o.restart.multiplier = r.number("supervisor.restart_multiplier", o.restart.multiplier, 1.0, 100.0);
  o.restart.max_delay = r.millis("supervisor.restart_max_ms", o.restart.max_delay);
  o.restart.max_jitter = r.millis("supervisor.restart_jitter_ms", o.restart.max_jitter, Millis(0));
  o.liveness_failures = static_cast<int>(r.whole("supervisor.liveness_failures", o.liveness_failures, 1));
  return o;
}

struct Supervisor::Child {
  Child(ChildSpec s, const SupervisionTimings& t) : spec(std::move(s)), sched(t) {}
  ChildSpec spec;
  ChildPhase phase = ChildPhase::Stopped;
  bool want_up = true;
  pid_t pid = -1;
  uint64_t generation = 0;  // bumped at every spawn: stale probe results are ignored
  ChildSchedule sched;      // restart backoff, readiness deadline, probes, liveness, stop grace
  int restarts = 0;
  bool healthy = false;
  bool ready_timed_out = false;
  std::string last_exit;
  SystemTime last_exit_at{};
  // A process a previous supervisor started and left running, taken over: not our child (no waitpid), so
  // its exit is seen through this pidfd. -1 for children we spawned.
  int pidfd = -1;
  // Graceful restart: the current process was started on the supervisor's listening socket, so a successor
  // can share it; `successor` is the new process while it starts (the old one serves until it is ready).
  bool on_listener = false;
  bool keep_listener = false;  // a restart (stop and start): the socket stays open and queues for the start
  pid_t successor = -1;
  SteadyTime successor_deadline{};
  bool successor_ready = false;
  std::string last_reload;  // "pid 1 -> 2 without closing the port", or why a graceful restart failed
};

Supervisor::Supervisor(SupervisorOptions opts, std::vector<ChildSpec> children, Prober& prober, Clock& clock)
    : opts_(std::move(opts)), prober_(prober), clock_(clock), started_at_(clock.now()) {
  for (auto& c : children) children_.push_back(std::make_unique<Child>(std::move(c), opts_));
}

Supervisor::~Supervisor() {
  stop_health_ = true;
  if (health_thread_.joinable()) health_thread_.join();
  for (auto& c : children_)
    if (c->pidfd >= 0) ::close(c->pidfd);
  for (auto& [name, fd] : listeners_) ::close(fd);
  for (auto& r : retiring_)
    if (r.pidfd >= 0) ::close(r.pidfd);
}

void Supervisor::request_shutdown() {
  if (!shutting_down_.exchange(true)) spdlog::info("shutdown requested: stopping children in reverse order");
}

void Supervisor::write_pidfile(const Child& c) const {
  try {
    write_pid_record(opts_.run_dir / (c.spec.name + ".pid"), c.pid);
  } catch (const std::exception& e) {
    spdlog::warn("cannot record pid of {}: {}", c.spec.name, e.what());
  }
}

void Supervisor::remove_pidfile(const Child& c) const {
  std::error_code ec;
  std::filesystem::remove(opts_.run_dir / (c.spec.name + ".pid"), ec);
}

namespace {
// The running program of a process was replaced on disk (a rebuilt dive): "/path/dive (deleted)".
bool exe_replaced(pid_t pid) {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  return !ec && ends_with(exe.string(), " (deleted)");
}
}  // namespace

// Children of a previous supervisor that died without stopping them (SIGKILL, OOM kill) keep running and
// serving: they are taken over, not restarted, so the death of a supervisor costs no request. Only a process
// whose pid and start time both match our record is ours; one whose program was replaced on disk since it
// started (an upgrade) is stopped instead, and started again from the new program.
void Supervisor::adopt_stale_children() {
  const auto now = clock_.now();
  for (const auto& cp : children_) {
    Child& c = *cp;
    auto rec = read_pid_record(opts_.run_dir / (c.spec.name + ".pid"));
    if (!rec || !record_is_live(*rec)) {
      remove_pidfile(c);
      continue;
    }
    int fd = exe_replaced(rec->pid) ? -1 : static_cast<int>(::syscall(SYS_pidfd_open, rec->pid, 0));
    if (fd >= 0 && record_is_live(*rec)) {  // still the same process once the pidfd holds it
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      c.pid = rec->pid;
      c.pidfd = fd;
      ++c.generation;
      c.phase = ChildPhase::Starting;  // Running as soon as its readiness probe passes
      c.sched.started(now);
      spdlog::warn("{}: pid {} left running by a previous supervisor; taken over", c.spec.name, c.pid);
      // Its listening socket too, so that its restarts stay graceful.
      if (c.spec.is_service() && !c.spec.listen_address.empty() && !listeners_.count(c.spec.name)) {
        const int lfd = take_listening_socket(c.pid, fd, c.spec.port);
        if (lfd >= 0) {
          listeners_[c.spec.name] = lfd;
          c.on_listener = true;
        } else {
          spdlog::info(
              "{}: its listening socket could not be taken over; a restart of it stops and starts it",
              c.spec.name);
        }
      }
      continue;
    }
    if (fd >= 0) ::close(fd);
    spdlog::warn("stopping {} (pid {}) left running by a previous supervisor", c.spec.name, rec->pid);
    terminate_pid(rec->pid, opts_.stop_grace, c.spec.stop_signal);
    remove_pidfile(c);
  }
}

bool Supervisor::deps_ready(size_t index) const {
  for (size_t i = 0; i < index; ++i) {
    const auto& d = *children_[i];
    if (!d.want_up) continue;  // a deliberately stopped dependency does not hold others back
    if (d.phase != ChildPhase::Running) return false;
  }
  return true;
}

int Supervisor::listener_for(const Child& c) {
  if (c.spec.listen_address.empty() || c.spec.port <= 0) return -1;
  if (auto it = listeners_.find(c.spec.name); it != listeners_.end()) return it->second;
  std::string why;
  const int fd = bind_listening_socket(c.spec.listen_address, c.spec.port, &why);
  if (fd < 0) {
    // Taken (a process of a previous supervisor still holds it): the service binds the port itself, and a
    // restart of it is a stop and a start.
    spdlog::info("{}: no shared listening socket on {}:{} ({}); the service binds its port itself",
                 c.spec.name, c.spec.listen_address, c.spec.port, why);
    return -1;
  }
  listeners_[c.spec.name] = fd;
  return fd;
}

SpawnOptions Supervisor::spawn_options(Child& c, int listen_fd) const {
  SpawnOptions o;
  o.argv = c.spec.argv;
  o.env = c.spec.env;
  o.uid = c.spec.uid;
  o.gid = c.spec.gid;
  o.stdout_path = c.spec.log_path;
  o.new_process_group = true;
  if (listen_fd >= 0) {
    o.keep_fds = {listen_fd};
    o.env["DIVE_LISTEN_FD"] = std::to_string(listen_fd);
  }
  // No parent-death signal: if this supervisor dies, its children keep serving until the next supervisor
  // takes them over (adopt_stale_children).
  return o;
}

void Supervisor::spawn_child(Child& c) {
  const int listen_fd = listener_for(c);
  SpawnOptions o = spawn_options(c, listen_fd);
  // Keep logs bounded: rotate once past 64 MiB (one old generation kept).
  std::error_code ec;
  if (!c.spec.log_path.empty() && std::filesystem::file_size(c.spec.log_path, ec) > (64u << 20) && !ec)
    std::filesystem::rename(c.spec.log_path, c.spec.log_path + ".1", ec);
  try {
    c.pid = spawn(o);
    c.on_listener = listen_fd >= 0;
  } catch (const std::exception& e) {
    c.pid = -1;
    c.phase = ChildPhase::Crashed;
    c.last_exit = std::string("could not start: ") + e.what();
    c.last_exit_at = clock_.wall();
    const Millis delay = c.sched.crashed(clock_.now());
    ++c.restarts;
    spdlog::error("{}: {}; retrying in {}", c.spec.name, c.last_exit, format_duration_ms(delay.count()));
    return;
  }
  ++c.generation;
  c.phase = ChildPhase::Starting;
  c.healthy = false;
  c.ready_timed_out = false;
  c.sched.started(clock_.now());
  write_pidfile(c);
  spdlog::info("{}: started (pid {})", c.spec.name, c.pid);
}

bool Supervisor::start_successor(Child& c) {
  if (!c.spec.is_service() || !c.on_listener || c.pid <= 0 || c.phase != ChildPhase::Running) return false;
  if (c.successor > 0) return true;  // already under way
  const int listen_fd = listener_for(c);
  if (listen_fd < 0) return false;
  try {
    c.successor = spawn(spawn_options(c, listen_fd));
  } catch (const std::exception& e) {
    c.last_reload = std::string("graceful restart failed: ") + e.what();
    spdlog::error("{}: {}", c.spec.name, c.last_reload);
    return false;
  }
  c.successor_ready = false;
  c.successor_deadline = clock_.now() + opts_.ready_timeout;
  spdlog::info("{}: graceful restart: pid {} starts beside pid {} on the same socket", c.spec.name,
               c.successor, c.pid);
  return true;
}

void Supervisor::advance_reloads(SteadyTime now) {
  for (auto& cp : children_) {
    Child& c = *cp;
    if (c.successor <= 0) continue;
    const bool abandon = shutting_down_ || !c.want_up || c.pid <= 0;
    if (!abandon && c.successor_ready) {
      // The successor answers ready: the old process stops accepting and drains (SIGTERM); the socket and its
      // queue of connections stay with the successor.
      spdlog::info("{}: graceful restart: pid {} is ready; pid {} drains and exits", c.spec.name, c.successor,
                   c.pid);
      ::kill(c.pid, c.spec.stop_signal);
      // A process taken over from a previous supervisor is not our child: its pidfd goes with it, and the
      // successor (ours) is watched through waitpid like any child.
      retiring_.push_back({c.pid, now + opts_.stop_grace, c.spec.name, c.pidfd});
      c.pidfd = -1;
      c.last_reload =
          "pid " + std::to_string(c.pid) + " -> " + std::to_string(c.successor) + " without closing the port";
      c.pid = c.successor;
      c.successor = -1;
      ++c.generation;
      c.sched.replaced(now);
      c.healthy = true;
      write_pidfile(c);
    } else if (abandon || now >= c.successor_deadline) {
      c.last_reload = abandon ? "graceful restart abandoned (stopping)"
                              : "graceful restart failed: pid " + std::to_string(c.successor) +
                                    " was not ready in time; the old process keeps serving";
      if (!abandon) spdlog::error("{}: {}", c.spec.name, c.last_reload);
      ::kill(-c.successor, SIGKILL);
      retiring_.push_back({c.successor, now + opts_.stop_grace, c.spec.name});
      c.successor = -1;
    }
  }
  for (auto& r : retiring_)
    if (now >= r.kill_at) {
      spdlog::warn("{}: pid {} did not exit within {}; killing it", r.name, r.pid,
                   format_duration_ms(opts_.stop_grace.count()));
      ::kill(-r.pid, SIGKILL);
      r.kill_at = now + opts_.stop_grace;
    }
}

void Supervisor::signal_child(Child& c, int sig) {
  if (c.pid <= 0) return;
  ::kill(c.pid, sig);
}

void Supervisor::on_exit(Child& c, const std::string& how) {
  // Whatever is left of its process group (a postmaster's backends) goes with it.
  ::kill(-c.pid, SIGKILL);
  // A stopped or crashed service refuses connections (clients fail fast instead of waiting in a queue nobody
  // serves); only a restart keeps its socket, so the connections queue for the process that follows at once.
  if (!c.keep_listener)
    if (auto it = listeners_.find(c.spec.name); it != listeners_.end()) {
      ::close(it->second);
      listeners_.erase(it);
    }
  c.keep_listener = false;
  remove_pidfile(c);
  if (c.pidfd >= 0) ::close(c.pidfd);
  c.pidfd = -1;
  c.pid = -1;
  c.healthy = false;
  c.last_exit = how;
  c.last_exit_at = clock_.wall();
  if (c.phase == ChildPhase::Stopping || !c.want_up || shutting_down_) {
    c.phase = ChildPhase::Stopped;
    spdlog::info("{}: stopped ({})", c.spec.name, c.last_exit);
  } else {
    c.phase = ChildPhase::Crashed;
    ++c.restarts;
    const Millis delay = c.sched.crashed(clock_.now());
    spdlog::warn("{}: crashed ({}); restart #{} in {}", c.spec.name, c.last_exit, c.restarts,
                 format_duration_ms(delay.count()));
  }
}

void Supervisor::reap() {
  while (true) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) break;
    MutexLock lock(mu_);
    bool known = false;
    for (auto& cp : children_) {
      if (cp->pid == pid && cp->pidfd < 0) {
        on_exit(*cp, describe_wait_status(status));
        known = true;
      } else if (cp->successor == pid) {
        cp->last_reload = "graceful restart failed: the new process " + describe_wait_status(status) +
                          "; the old process keeps serving";
        spdlog::error("{}: {}", cp->spec.name, cp->last_reload);
        ::kill(-pid, SIGKILL);
        cp->successor = -1;
        known = true;
      }
    }
    if (!known)
      for (auto it = retiring_.begin(); it != retiring_.end(); ++it)
        if (it->pid == pid) {
          ::kill(-pid, SIGKILL);  // whatever is left of its process group
          spdlog::info("{}: pid {} exited after handing over ({})", it->name, pid,
                       describe_wait_status(status));
          retiring_.erase(it);
          break;
        }
  }
  // Taken-over processes are not our children: their pidfd becomes readable when they exit.
  MutexLock lock(mu_);
  for (auto it = retiring_.begin(); it != retiring_.end();) {
    pollfd p{it->pidfd, POLLIN, 0};
    if (it->pidfd >= 0 && ::poll(&p, 1, 0) > 0) {
      ::close(it->pidfd);
      spdlog::info("{}: pid {} exited after handing over", it->name, it->pid);
      it = retiring_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& cp : children_) {
    if (cp->pidfd < 0) continue;
    pollfd p{cp->pidfd, POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) on_exit(*cp, "exited (taken over from a previous supervisor: status unknown)");
  }
}

void Supervisor::tick() {
  MutexLock lock(mu_);
  const auto now = clock_.now();
  advance_reloads(now);
  if (shutting_down_) {
    for (auto& c : children_) c->want_up = false;
  }
  for (size_t i = 0; i < children_.size(); ++i) {
    Child& c = *children_[i];
    if (c.want_up) {
      bool due =
          c.phase == ChildPhase::Stopped || (c.phase == ChildPhase::Crashed && c.sched.restart_due(now));
      if (due && deps_ready(i)) spawn_child(c);
      if (c.phase == ChildPhase::Starting) {
        if (c.healthy) {
          c.phase = ChildPhase::Running;
          c.sched.ready(now);
          spdlog::info(
              "{}: ready after {}", c.spec.name,
              format_duration_ms(std::chrono::duration_cast<Millis>(now - c.sched.started_at()).count()));
        } else if (c.sched.ready_overdue(now)) {
          c.phase = ChildPhase::Running;
          c.ready_timed_out = true;
          spdlog::warn("{}: not ready after {}; starting the services after it anyway", c.spec.name,
                       format_duration_ms(opts_.ready_timeout.count()));
        }
      }
      if (c.phase == ChildPhase::Running) {
        c.sched.running(now, c.healthy);
        if (c.spec.is_service() && c.pid > 0 && c.sched.liveness_exhausted()) {
          spdlog::error("{}: {} liveness probes failed in a row; killing pid {} to restart it", c.spec.name,
                        opts_.liveness_failures, c.pid);
          ::kill(-c.pid, SIGKILL);
        }
      }
    } else {
      if (c.phase == ChildPhase::Crashed) c.phase = ChildPhase::Stopped;
      if (c.phase == ChildPhase::Starting || c.phase == ChildPhase::Running) {
        // Reverse order: a child stops only once everything started after it has stopped.
        bool dependents_down = true;
        if (shutting_down_) {
          for (size_t j = i + 1; j < children_.size(); ++j)
            if (children_[j]->phase != ChildPhase::Stopped) dependents_down = false;
        }
        if (dependents_down) {
          spdlog::info("{}: stopping (pid {})", c.spec.name, c.pid);
          signal_child(c, c.spec.stop_signal);
          c.phase = ChildPhase::Stopping;
          c.sched.stopping(now);
        }
      } else if (c.phase == ChildPhase::Stopping && c.pid > 0 && c.sched.stop_overdue(now)) {
        spdlog::warn("{}: did not stop within {}; killing pid {}", c.spec.name,
                     format_duration_ms(opts_.stop_grace.count()), c.pid);
        ::kill(-c.pid, SIGKILL);
      }
    }
  }
}

void Supervisor::health_loop() {
  while (!stop_health_) {
    struct Job {
      size_t index;
      uint64_t generation;
      ChildSpec spec;
      bool liveness;
    };
    std::vector<Job> jobs;
    std::vector<std::pair<size_t, pid_t>> successors;  // graceful restarts waiting for their new process
    {
      MutexLock lock(mu_);
      const auto now = clock_.now();
      for (size_t i = 0; i < children_.size(); ++i)
        if (children_[i]->successor > 0 && !children_[i]->successor_ready)
          successors.emplace_back(i, children_[i]->successor);
      for (size_t i = 0; i < children_.size(); ++i) {
        Child& c = *children_[i];
        if (c.pid <= 0 || (c.phase != ChildPhase::Starting && c.phase != ChildPhase::Running)) continue;
        if (!c.sched.probe_due(now, c.phase == ChildPhase::Starting)) continue;
        jobs.push_back({i, c.generation, c.spec, c.phase == ChildPhase::Running && c.spec.is_service()});
      }
    }
    for (const auto& [index, pid] : successors) {
      // Both processes accept on the one socket: a few probes on new connections reach the new one once it
      // listens. Ready means its own /health/ready said 200 with its pid.
      ChildSpec spec;
      {
        MutexLock lock(mu_);
        spec = children_[index]->spec;
      }
      bool ready = false;
      for (int attempt = 0; attempt < 8 && !ready && !stop_health_; ++attempt) {
        try {
          auto answered = prober_.ready_pid(spec);
          ready = answered && *answered == pid;
        } catch (const std::exception& e) {
          spdlog::debug("{}: probe error: {}", spec.name, e.what());
        }
      }
      MutexLock lock(mu_);
      if (ready && children_[index]->successor == pid) children_[index]->successor_ready = true;
    }
    for (const auto& job : jobs) {
      if (stop_health_) return;
      bool ok = false, live = true;
      try {
        ok = prober_.ready(job.spec);
        if (job.liveness) live = ok || prober_.live(job.spec);
      } catch (const std::exception& e) {
        spdlog::debug("{}: probe error: {}", job.spec.name, e.what());
      }
      MutexLock lock(mu_);
      Child& c = *children_[job.index];
      if (c.generation != job.generation || c.pid <= 0) continue;
      if (c.healthy && !ok && c.phase == ChildPhase::Running)
        spdlog::warn("{}: became unhealthy", c.spec.name);
      else if (!c.healthy && ok && c.phase == ChildPhase::Running)
        spdlog::info("{}: healthy again", c.spec.name);
      c.healthy = ok;
      c.sched.liveness(live);
    }
    std::this_thread::sleep_for(Millis(50));
  }
}

Json Supervisor::status() {
  MutexLock lock(mu_);
  const auto now = clock_.now();
  Json services = Json::array();
  for (const auto& cp : children_) {
    const Child& c = *cp;
    Json s = {{"name", c.spec.name},
              {"state", to_string(c.phase)},
              {"pid", c.pid > 0 ? Json(c.pid) : Json(nullptr)},
              {"restarts", c.restarts},
              {"restarting", c.successor > 0},
              // A process it replaced still drains (its last connections): a restart is done once it is gone.
              {"draining", std::any_of(retiring_.begin(), retiring_.end(),
                                       [&](const Retiring& r) { return r.name == c.spec.name; })},
              {"lastRestart", c.last_reload.empty() ? Json(nullptr) : Json(c.last_reload)},
              {"healthy", c.healthy},
              {"port", c.spec.port},
              {"wanted", c.want_up},
              {"adopted", c.pidfd >= 0},
              {"readyTimedOut", c.ready_timed_out},
              {"lastExit", c.last_exit.empty() ? Json(nullptr) : Json(c.last_exit)},
              {"backoffMs", c.sched.last_delay().count()},
              {"argv", c.spec.argv}};  // never secrets: those travel in the environment
    if (c.pid > 0) {
      s["uptimeMs"] = std::chrono::duration_cast<Millis>(now - c.sched.started_at()).count();
      if (auto rss = proc_rss_bytes(c.pid)) s["rssBytes"] = *rss;
    }
    if (c.phase == ChildPhase::Crashed) s["nextRestartInMs"] = c.sched.restart_in(now).count();
    if (c.last_exit_at.time_since_epoch().count() != 0)
      s["lastExitAt"] =
          std::chrono::duration_cast<std::chrono::milliseconds>(c.last_exit_at.time_since_epoch()).count();
    services.push_back(std::move(s));
  }
  return Json{{"instance", opts_.code},
              {"supervisor",
               {{"pid", ::getpid()},
                {"uptimeMs", std::chrono::duration_cast<Millis>(now - started_at_).count()},
                {"shuttingDown", shutting_down_.load()}}},
              {"services", services}};
}

Json Supervisor::handle(const Json& req) {
  std::string cmd = req.value("cmd", "");
  if (cmd == "status") return Json{{"ok", true}, {"status", status()}};
  if (cmd == "shutdown") {
    request_shutdown();
    return Json{{"ok", true}};
  }
  if (cmd == "stop" || cmd == "start" || cmd == "restart") {
    std::string name = req.value("service", "");
    MutexLock lock(mu_);
    for (auto& cp : children_) {
      Child& c = *cp;
      if (c.spec.name != name) continue;
      if (shutting_down_) return Json{{"ok", false}, {"error", "the supervisor is shutting down"}};
      if (cmd == "stop") {
        c.want_up = false;
        spdlog::info("{}: stop requested; it stays stopped until started", name);
      } else if (cmd == "start") {
        c.want_up = true;
        c.sched.start_requested(clock_.now());
        spdlog::info("{}: start requested", name);
      } else {  // restart: gracefully when it can (a successor on the same socket), else stop and start
        c.sched.reset_backoff();
        const pid_t old = c.pid;
        if (c.want_up && start_successor(c))
          return Json{{"ok", true}, {"graceful", true}, {"pid", old}, {"successor", c.successor}};
        if (c.pid > 0) {
          signal_child(c, c.spec.stop_signal);
          c.phase = ChildPhase::Stopping;
          c.sched.stopping(clock_.now());
          c.keep_listener = true;
        }
        c.want_up = true;
        return Json{{"ok", true}, {"graceful", false}, {"pid", old > 0 ? Json(old) : Json(nullptr)}};
      }
      return Json{{"ok", true}};
    }
    return Json{{"ok", false}, {"error", "no service named '" + name + "'"}};
  }
  return Json{{"ok", false}, {"error", "unknown command '" + cmd + "'"}};
}

void Supervisor::serve_control(int listen_fd) {
  while (true) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    timeval tv{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    std::string line;
    char buf[1024];
    while (line.find('\n') == std::string::npos && line.size() < 65536) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    Json resp;
    try {
      resp = handle(Json::parse(line.substr(0, line.find('\n'))));
    } catch (const std::exception& e) {
      resp = Json{{"ok", false}, {"error", std::string("bad request: ") + e.what()}};
    }
    std::string out = resp.dump() + "\n";
    (void)!::send(fd, out.data(), out.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
}

int Supervisor::run() {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&mask, s);
  ::pthread_sigmask(SIG_BLOCK, &mask, nullptr);  // before the health thread starts: it inherits the mask
  ::signal(SIGPIPE, SIG_IGN);
  int sfd = ::signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (sfd < 0) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
  ensure_dir(opts_.run_dir, 0700);
  {
    MutexLock lock(mu_);  // no other thread yet: for the analysis (and any later caller)
    adopt_stale_children();
  }
  int lfd = control_listen(opts_.socket);
  spdlog::info("supervisor of {} running (pid {}), control socket {}", opts_.code, ::getpid(),
               opts_.socket.string());
  health_thread_ = std::thread([this] { health_loop(); });

  while (true) {
    pollfd fds[2] = {{sfd, POLLIN, 0}, {lfd, POLLIN, 0}};
    int r = ::poll(fds, 2, 100);
    if (r < 0 && errno != EINTR) break;
    if (r > 0 && (fds[0].revents & POLLIN)) {
      signalfd_siginfo si;
      while (::read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGHUP) request_shutdown();
      }
    }
    if (r > 0 && (fds[1].revents & POLLIN)) serve_control(lfd);
    reap();
    tick();
    if (shutting_down_) {
      MutexLock lock(mu_);
      bool all_down = true;
      for (const auto& c : children_) all_down = all_down && c->phase == ChildPhase::Stopped;
      if (all_down) break;
    }
  }
  stop_health_ = true;
  if (health_thread_.joinable()) health_thread_.join();
  ::close(lfd);
  ::close(sfd);
  ::unlink(opts_.socket.c_str());
  spdlog::info("supervisor of {} stopped", opts_.code);
  return 0;
}

}  // namespace dive::orch
