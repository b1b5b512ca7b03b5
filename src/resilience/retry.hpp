#pragma once
// Exponential backoff with jitter and a cap, and a retry loop built on it. Randomness and sleeping are
// injectable so the schedule is unit-testable.
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/random.hpp"

namespace dive::resilience {

struct BackoffPolicy {
  Millis initial{2000};
  double multiplier = 2.0;
  Millis max_delay{60000};  // cap of every delay, jitter included
  Millis max_jitter{1000};  // uniform extra in [0, max_jitter]
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy p, Random& rng = Random::system()) : p_(p), rng_(rng) {}
  // The delay before the next attempt; grows by `multiplier` each call until the cap.
  Millis next();
  void reset() { n_ = 0; }
  int failures() const { return n_; }
  const BackoffPolicy& policy() const { return p_; }

 private:
  BackoffPolicy p_;
  Random& rng_;
  int n_ = 0;
};

struct RetryPolicy {
  int max_attempts = 5;  // total attempts, including the first
  BackoffPolicy backoff;
};

using Sleeper = std::function<void(Millis)>;
inline void real_sleep(Millis d) {
  std::this_thread::sleep_for(d);
}

struct RetryHooks {
  // Decides whether an error is worth another attempt (default: every std::exception).
  std::function<bool(const std::exception&)> retryable;
  // Told about each failed attempt that will be retried (attempt number from 1, the delay, the error).
  std::function<void(int, Millis, const std::exception&)> on_retry;
  Sleeper sleep = real_sleep;
};

// Calls fn until it returns, the error is not retryable, or attempts run out; then rethrows the last
// error. Returns fn's result.
template <class F>
auto retry(const RetryPolicy& policy, F&& fn, const RetryHooks& hooks = {}, Random& rng = Random::system())
    -> decltype(fn()) {
  Backoff backoff(policy.backoff, rng);
  for (int attempt = 1;; ++attempt) {
    try {
      return fn();
    } catch (const std::exception& e) {
      bool retryable = !hooks.retryable || hooks.retryable(e);
      if (!retryable || attempt >= policy.max_attempts) throw;
      Millis d = backoff.next();
      if (hooks.on_retry) hooks.on_retry(attempt, d, e);
      (hooks.sleep ? hooks.sleep : Sleeper(real_sleep))(d);
    }
  }
}

}  // namespace dive::resilience
