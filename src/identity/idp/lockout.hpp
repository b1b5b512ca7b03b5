#pragma once
// Brute-force protection: `threshold` consecutive failed logins lock an account for `duration`. A
// successful login resets the count; so does the end of a lock (the next failure starts a new series).
// While locked, no login succeeds, even with the right password, and further failures do not extend the
// lock. The state lives in the user's row; this class is the pure state machine with an injectable clock.
#include <chrono>
#include <cstdint>
#include <optional>

#include "common/clock.hpp"

namespace dive::identity::idp {

struct LockoutPolicy {
  int threshold = 5;
  std::chrono::seconds duration{15 * 60};
};

struct LockoutState {
  int failures = 0;
  std::optional<int64_t> locked_until_ms;  // epoch milliseconds
  bool operator==(const LockoutState&) const = default;
};

// Thread-safe: fixed after construction (the state is passed in and returned, never kept).
class Lockout {
 public:
  explicit Lockout(LockoutPolicy policy, Clock& clock = Clock::system()) : policy_(policy), clock_(clock) {}

  bool is_locked(const LockoutState& s) const;
  // The state after a failed attempt; `*locked_now` is true when this failure started a lock.
  LockoutState after_failure(const LockoutState& s, bool* locked_now = nullptr) const;
  // The state after a successful login (only reachable while not locked).
  LockoutState after_success(const LockoutState&) const { return {}; }
  const LockoutPolicy& policy() const { return policy_; }

 private:
  int64_t now_ms() const;
  LockoutPolicy policy_;
  Clock& clock_;
};

}  // namespace dive::identity::idp
