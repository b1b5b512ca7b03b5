#pragma once
// The time-driven part of supervising one child (docs/ORCHESTRATION.md), apart from its process so that it is
// unit-tested over a fake clock (child_schedule_test.cpp): when a crashed child is started again (exponential
// backoff with jitter, started over once the child has been healthy for `stable_after`), how long a starting
// child may take to be ready, how often it is probed, when failed liveness probes get it killed, and when a
// child that does not stop is killed. Every call is given the time; nothing here reads a clock. Not
// thread-safe: the supervisor calls it under its lock.
#include "common/clock.hpp"
#include "common/random.hpp"
#include "resilience/retry.hpp"

namespace dive::orch {

// The timings of supervision (instance.json "supervisor"; SupervisorOptions::from_config reads them).
struct SupervisionTimings {
  Millis health_interval{2000};  // between probes of a running child (150 ms while it starts)
  Millis ready_timeout{60000};   // a starting child not ready by then counts as running; the next ones start
  Millis stable_after{30000};    // healthy this long: the restart backoff starts over
  Millis stop_grace{10000};      // asked to stop and still running after this: killed
  resilience::BackoffPolicy restart{Millis(1000), 2.0, Millis(30000), Millis(250)};
  int liveness_failures = 6;  // consecutive failed /health/live probes before a service is killed
};

class ChildSchedule {
 public:
  // Probes of a child that is starting come this often, so that it is seen ready soon after it is.
  static constexpr Millis kStartingProbeInterval{150};

  explicit ChildSchedule(const SupervisionTimings& t, Random& rng = Random::system());

  // A process of the child was started (or taken over) at `now`: it has ready_timeout to be ready, is probed
  // at once, and its liveness count starts over.
  void started(SteadyTime now);
  // A graceful restart's successor took over at `now`: its uptime and liveness count start over.
  void replaced(SteadyTime now);
  SteadyTime started_at() const { return started_at_; }

  // Starting and still not ready at `now`: waited long enough.
  bool ready_overdue(SteadyTime now) const { return now >= ready_deadline_; }
  // It answered ready at `now` (it is running from then on).
  void ready(SteadyTime now) { healthy_since_ = now; }
  // Running, with its health as last probed, at `now`: once healthy for stable_after without a break, the
  // restart backoff starts over.
  void running(SteadyTime now, bool healthy);

  // Whether its health is to be probed at `now` (every kStartingProbeInterval while it starts, every
  // health_interval once it runs); a true answer counts as the probe taken.
  bool probe_due(SteadyTime now, bool starting);
  // The result of a liveness probe.
  void liveness(bool live) { live_failures_ = live ? 0 : live_failures_ + 1; }
  // True once liveness_failures probes in a row have failed: the process is to be killed (the count starts
  // over).
  bool liveness_exhausted();

  // It exited unexpectedly (or could not be started) at `now`: returns the delay before it is started again,
  // the next of the backoff.
  Millis crashed(SteadyTime now);
  bool restart_due(SteadyTime now) const { return now >= restart_at_; }
  Millis restart_in(SteadyTime now) const;  // 0 once due
  Millis last_delay() const { return last_delay_; }
  int backoff_failures() const { return backoff_.failures(); }
  // A start asked for at `now`: the backoff starts over and a crashed child is due at once.
  void start_requested(SteadyTime now);
  void reset_backoff() { backoff_.reset(); }

  // Asked to stop at `now`.
  void stopping(SteadyTime now) { stop_deadline_ = now + t_.stop_grace; }
  // Still running past the stop grace at `now`: to be killed (true once per grace).
  bool stop_overdue(SteadyTime now);

 private:
  SupervisionTimings t_;
  resilience::Backoff backoff_;
  SteadyTime started_at_{}, ready_deadline_{}, restart_at_{}, stop_deadline_{}, healthy_since_{},
      last_probe_{};
  int live_failures_ = 0;
  Millis last_delay_{0};
};

}  // namespace dive::orch
