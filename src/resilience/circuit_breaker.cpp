#include "resilience/circuit_breaker.hpp"

#include <spdlog/spdlog.h>

#include "common/mutex.hpp"
#include "metrics/registry.hpp"

namespace dive::resilience {

const char* to_string(BreakerState s) {
  switch (s) {
    case BreakerState::Closed:
      return "CLOSED";
    case BreakerState::HalfOpen:
      return "HALF_OPEN";
    case BreakerState::Open:
      return "OPEN";
  }
  return "UNKNOWN";
}

Json BreakerSnapshot::to_json() const {
  Json j = {{"name", name},
            {"state", to_string(state)},
            {"failures", consecutive_failures},
            {"totalFailures", total_failures},
            {"totalSuccesses", total_successes},
            {"rejects", rejects},
            {"lastFailure", nullptr},
            {"lastFailureReason", last_failure.empty() ? Json(nullptr) : Json(last_failure)}};
  if (last_failure_at)
    j["lastFailure"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(last_failure_at->time_since_epoch()).count();
  if (state == BreakerState::Open) j["retryAfterMs"] = retry_after.count();
  return j;
}

CircuitBreaker::CircuitBreaker(std::string name, BreakerConfig cfg, Clock& clock, metrics::Registry* registry)
    : name_(std::move(name)), cfg_(cfg), clock_(clock) {
  if (cfg_.failure_threshold < 1) cfg_.failure_threshold = 1;
  if (cfg_.success_threshold < 1) cfg_.success_threshold = 1;
  if (cfg_.half_open_max_probes <= 0) cfg_.half_open_max_probes = cfg_.success_threshold;
  if (registry) {
    m_state_ = &registry
                    ->gauge("dive_v3_circuit_breaker_state",
                            "Circuit breaker state (0 closed, 1 half-open, 2 open)", {"service"})
                    .labels({name_});
    m_failures_ = &registry
                       ->gauge("dive_v3_circuit_breaker_failures",
                               "Consecutive failures counted by the circuit breaker", {"service"})
                       .labels({name_});
    m_rejects_ = &registry
                      ->counter("dive_v3_circuit_breaker_rejects_total",
                                "Calls rejected by an open circuit breaker", {"service"})
                      .labels({name_});
    m_transitions_ =
        &registry->counter("dive_v3_circuit_breaker_transitions_total", "Circuit breaker state transitions",
                           {"service", "from_state", "to_state"});
    // Every transition the state machine can make exists from the start at 0, so that increase() sees
    // the first one (a series born at 1 has no increase).
    using S = BreakerState;
    for (auto [from, to] : {std::pair{S::Closed, S::Open}, std::pair{S::Open, S::HalfOpen},
                            std::pair{S::HalfOpen, S::Closed}, std::pair{S::HalfOpen, S::Open}})
      m_transitions_->labels({name_, to_string(from), to_string(to)});
    MutexLock lock(mu_);
    publish_locked();
  }
}

void CircuitBreaker::on_transition(std::function<void(BreakerState, BreakerState)> fn) {
  MutexLock lock(mu_);
  listener_ = std::move(fn);
}

void CircuitBreaker::publish_locked() {
  if (m_state_) m_state_->set(static_cast<double>(static_cast<int>(state_)));
  if (m_failures_) m_failures_->set(consecutive_failures_);
}

void CircuitBreaker::transition_locked(BreakerState to,
                                       std::vector<std::pair<BreakerState, BreakerState>>& fired) {
  if (to == state_) return;
  BreakerState from = state_;
  state_ = to;
  ++generation_;
  half_open_successes_ = 0;
  half_open_in_flight_ = 0;
  if (to == BreakerState::Closed) consecutive_failures_ = 0;
  if (m_transitions_) m_transitions_->labels({name_, to_string(from), to_string(to)}).inc();
  publish_locked();
  fired.emplace_back(from, to);
}

void CircuitBreaker::maybe_half_open_locked(std::vector<std::pair<BreakerState, BreakerState>>& fired) {
  if (state_ == BreakerState::Open && clock_.now() - last_failure_steady_ >= cfg_.open_timeout)
    transition_locked(BreakerState::HalfOpen, fired);
}

void CircuitBreaker::notify(const std::vector<std::pair<BreakerState, BreakerState>>& fired) {
  for (auto [from, to] : fired) {
    if (to == BreakerState::Open)
      spdlog::warn("circuit breaker {}: {} -> {}", name_, to_string(from), to_string(to));
    else
      spdlog::info("circuit breaker {}: {} -> {}", name_, to_string(from), to_string(to));
  }
  if (fired.empty()) return;
  std::function<void(BreakerState, BreakerState)> l;
  {
    MutexLock lock(mu_);
    l = listener_;
  }
  if (l)
    for (auto [from, to] : fired) l(from, to);
}

std::optional<CircuitBreaker::Permit> CircuitBreaker::try_acquire() {
  std::vector<std::pair<BreakerState, BreakerState>> fired;
  std::optional<Permit> out;
  {
    MutexLock lock(mu_);
    maybe_half_open_locked(fired);
    switch (state_) {
      case BreakerState::Closed:
        out.emplace(Permit(this, false, generation_));
        break;
      case BreakerState::HalfOpen:
        if (half_open_in_flight_ < cfg_.half_open_max_probes) {
          ++half_open_in_flight_;
          out.emplace(Permit(this, true, generation_));
        }
        break;
      case BreakerState::Open:
        break;
    }
    if (!out) {
      ++rejects_;
      if (m_rejects_) m_rejects_->inc();
    }
  }
  notify(fired);
  return out;
}

void CircuitBreaker::record(bool ok, bool probe, uint64_t generation, std::string_view reason) {
  std::vector<std::pair<BreakerState, BreakerState>> fired;
  {
    MutexLock lock(mu_);
    bool current = generation == generation_;
    if (ok)
      ++total_successes_;
    else {
      ++total_failures_;
      last_failure_steady_ = clock_.now();
      last_failure_wall_ = clock_.wall();
      last_failure_ = std::string(reason.substr(0, 300));
    }
    switch (state_) {
      case BreakerState::Closed:
        if (ok)
          consecutive_failures_ = 0;
        else if (++consecutive_failures_ >= cfg_.failure_threshold)
          transition_locked(BreakerState::Open, fired);
        break;
      case BreakerState::HalfOpen:
        if (!probe || !current) break;  // a result from before the breaker opened says nothing now
        --half_open_in_flight_;
        if (!ok) {
          ++consecutive_failures_;
          transition_locked(BreakerState::Open, fired);
        } else if (++half_open_successes_ >= cfg_.success_threshold) {
          transition_locked(BreakerState::Closed, fired);
        }
        break;
      case BreakerState::Open:
        if (!ok) ++consecutive_failures_;  // a late failure extends the open period (last_failure moved)
        break;
    }
    publish_locked();
  }
  notify(fired);
}

void CircuitBreaker::unjudged(bool probe, uint64_t generation) {
  MutexLock lock(mu_);
  if (probe && generation == generation_ && state_ == BreakerState::HalfOpen && half_open_in_flight_ > 0)
    --half_open_in_flight_;
}

BreakerState CircuitBreaker::state() {
  std::vector<std::pair<BreakerState, BreakerState>> fired;
  BreakerState s;
  {
    MutexLock lock(mu_);
    maybe_half_open_locked(fired);
    s = state_;
  }
  notify(fired);
  return s;
}

BreakerSnapshot CircuitBreaker::snapshot() {
  std::vector<std::pair<BreakerState, BreakerState>> fired;
  BreakerSnapshot s;
  {
    MutexLock lock(mu_);
    maybe_half_open_locked(fired);
    s.name = name_;
    s.state = state_;
    s.consecutive_failures = consecutive_failures_;
    s.total_failures = total_failures_;
    s.total_successes = total_successes_;
    s.rejects = rejects_;
    s.last_failure_at = last_failure_wall_;
    s.last_failure = last_failure_;
    if (state_ == BreakerState::Open) {
      auto left = cfg_.open_timeout - std::chrono::duration_cast<Millis>(clock_.now() - last_failure_steady_);
      s.retry_after = left.count() > 0 ? left : Millis(0);
    }
  }
  notify(fired);
  return s;
}

void CircuitBreaker::reset() {
  std::vector<std::pair<BreakerState, BreakerState>> fired;
  {
    MutexLock lock(mu_);
    transition_locked(BreakerState::Closed, fired);
    consecutive_failures_ = 0;
    publish_locked();
  }
  notify(fired);
}

}  // namespace dive::resilience
