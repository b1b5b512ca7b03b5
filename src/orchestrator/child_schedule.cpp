#include "orchestrator/child_schedule.hpp"

#include <algorithm>

namespace dive::orch {

ChildSchedule::ChildSchedule(const SupervisionTimings& t, Random& rng) : t_(t), backoff_(t.restart, rng) {}

void ChildSchedule::started(SteadyTime now) {
  started_at_ = now;
  ready_deadline_ = now + t_.ready_timeout;
  last_probe_ = {};
  live_failures_ = 0;
}

void ChildSchedule::replaced(SteadyTime now) {
  started_at_ = now;
  live_failures_ = 0;
}

void ChildSchedule::running(SteadyTime now, bool healthy) {
  if (!healthy)
    healthy_since_ = now;
  else if (now - healthy_since_ >= t_.stable_after && backoff_.failures() > 0)
    backoff_.reset();
}

bool ChildSchedule::probe_due(SteadyTime now, bool starting) {
  const Millis every = starting ? kStartingProbeInterval : t_.health_interval;
  if (now - last_probe_ < every) return false;
  last_probe_ = now;
  return true;
}

bool ChildSchedule::liveness_exhausted() {
  if (live_failures_ < t_.liveness_failures) return false;
  live_failures_ = 0;
  return true;
}

Millis ChildSchedule::crashed(SteadyTime now) {
  last_delay_ = backoff_.next();
  restart_at_ = now + last_delay_;
  return last_delay_;
}

Millis ChildSchedule::restart_in(SteadyTime now) const {
  return std::max(Millis(0), std::chrono::duration_cast<Millis>(restart_at_ - now));
}

void ChildSchedule::start_requested(SteadyTime now) {
  backoff_.reset();
  restart_at_ = now;
}

bool ChildSchedule::stop_overdue(SteadyTime now) {
  if (now < stop_deadline_) return false;
  stop_deadline_ = now + t_.stop_grace;
  return true;
}

}  // namespace dive::orch
