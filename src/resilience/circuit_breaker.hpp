#pragma once
// Circuit breaker (docs/RESILIENCE.md): CLOSED -> OPEN after `failure_threshold` consecutive failures;
// OPEN rejects at once until `open_timeout` has passed since the last failure; then HALF_OPEN lets at most
// `half_open_max_probes` calls through at a time; `success_threshold` probe successes close it, any
// probe failure re-opens it. Thread-safe: one breaker per dependency, shared by every thread that calls it
// (mu_ guards the state and the counts; the transition listener is called outside it). Time comes from an
// injectable Clock.
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mutex.hpp"

namespace dive::metrics {
class Registry;
class Gauge;
class Counter;
template <class M>
class Family;
}  // namespace dive::metrics

namespace dive::resilience {

enum class BreakerState { Closed = 0, HalfOpen = 1, Open = 2 };
const char* to_string(BreakerState s);  // "CLOSED", "HALF_OPEN", "OPEN"

struct BreakerConfig {
  int failure_threshold = 5;
  Millis open_timeout{60000};
  int success_threshold = 2;
  int half_open_max_probes = 0;  // 0: same as success_threshold
};

struct BreakerSnapshot {
  std::string name;
  BreakerState state = BreakerState::Closed;
  int consecutive_failures = 0;
  uint64_t total_failures = 0;
  uint64_t total_successes = 0;
  uint64_t rejects = 0;
  std::optional<SystemTime> last_failure_at;
  std::string last_failure;
  Millis retry_after{0};  // while OPEN: time until probes are allowed
  Json to_json() const;
};

class BreakerOpenError : public std::runtime_error {
 public:
  BreakerOpenError(const std::string& name, Millis retry_after)
      : std::runtime_error("circuit breaker '" + name + "' is open"), retry_after_(retry_after) {}
  Millis retry_after() const { return retry_after_; }

 private:
  Millis retry_after_;
};

class CircuitBreaker {
 public:
  class Permit {
   public:
    Permit(Permit&& o) noexcept : cb_(o.cb_), probe_(o.probe_), generation_(o.generation_) {
      o.cb_ = nullptr;
    }
    Permit& operator=(Permit&&) = delete;
    Permit(const Permit&) = delete;
    ~Permit() {
      if (cb_) cb_->record(false, probe_, generation_, "abandoned");
    }
    void success() { finish(true, ""); }
    void failure(std::string_view reason) { finish(false, reason); }
    // The call never reached the dependency (e.g. it gave up waiting for a pooled connection of its own
    // side): neither a success nor a failure; a half-open probe slot is given back.
    void release_unjudged() {
      if (cb_) cb_->unjudged(probe_, generation_);
      cb_ = nullptr;
    }

   private:
    friend class CircuitBreaker;
    Permit(CircuitBreaker* cb, bool probe, uint64_t gen) : cb_(cb), probe_(probe), generation_(gen) {}
    void finish(bool ok, std::string_view reason) {
      if (cb_) cb_->record(ok, probe_, generation_, reason);
      cb_ = nullptr;
    }
    CircuitBreaker* cb_;
    bool probe_;
    uint64_t generation_;
  };

  CircuitBreaker(std::string name, BreakerConfig cfg, Clock& clock = Clock::system(),
                 metrics::Registry* registry = nullptr);
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // A permit to make one call, or nullopt when the breaker rejects (counted as a reject).
  std::optional<Permit> try_acquire();

  // Runs fn under the breaker: throws BreakerOpenError when rejected; an exception from fn counts as a
  // failure and is rethrown; a normal return counts as a success.
  template <class F>
  auto run(F&& fn) -> decltype(fn()) {
    auto permit = try_acquire();
    if (!permit) throw BreakerOpenError(name_, snapshot().retry_after);
    try {
      if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        permit->success();
      } else {
        auto result = fn();
        permit->success();
        return result;
      }
    } catch (const std::exception& e) {
      permit->failure(e.what());
      throw;
    }
  }

  BreakerState state();  // applies a due OPEN -> HALF_OPEN transition
  BreakerSnapshot snapshot();
  const std::string& name() const { return name_; }
  const BreakerConfig& config() const { return cfg_; }
  void reset();  // back to CLOSED with counters cleared (operator action)
  // Called (outside the lock) on every transition, e.g. to log it.
  void on_transition(std::function<void(BreakerState from, BreakerState to)> fn);

 private:
  void record(bool ok, bool probe, uint64_t generation, std::string_view reason) EXCLUDES(mu_);
  void unjudged(bool probe, uint64_t generation) EXCLUDES(mu_);
  void transition_locked(BreakerState to, std::vector<std::pair<BreakerState, BreakerState>>& fired)
      REQUIRES(mu_);
  void maybe_half_open_locked(std::vector<std::pair<BreakerState, BreakerState>>& fired) REQUIRES(mu_);
  void notify(const std::vector<std::pair<BreakerState, BreakerState>>& fired) EXCLUDES(mu_);
  void publish_locked() REQUIRES(mu_);

  std::string name_;
  BreakerConfig cfg_;
  Clock& clock_;
  Mutex mu_;
  BreakerState state_ GUARDED_BY(mu_) = BreakerState::Closed;
  uint64_t generation_ GUARDED_BY(mu_) = 0;
  int consecutive_failures_ GUARDED_BY(mu_) = 0;
  int half_open_successes_ GUARDED_BY(mu_) = 0;
  int half_open_in_flight_ GUARDED_BY(mu_) = 0;
  uint64_t total_failures_ GUARDED_BY(mu_) = 0;
  uint64_t total_successes_ GUARDED_BY(mu_) = 0;
  uint64_t rejects_ GUARDED_BY(mu_) = 0;
  SteadyTime last_failure_steady_ GUARDED_BY(mu_);
  std::optional<SystemTime> last_failure_wall_ GUARDED_BY(mu_);
  std::string last_failure_ GUARDED_BY(mu_);
  std::function<void(BreakerState, BreakerState)> listener_ GUARDED_BY(mu_);
  // metrics (optional)
  metrics::Gauge* m_state_ = nullptr;
  metrics::Gauge* m_failures_ = nullptr;
  metrics::Counter* m_rejects_ = nullptr;
  metrics::Family<metrics::Counter>* m_transitions_ = nullptr;
};

}  // namespace dive::resilience
