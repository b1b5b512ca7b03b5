#include "identity/idp/lockout.hpp"

namespace dive::identity::idp {

int64_t Lockout::now_ms() const {
  return clock_.unix_millis();
}

bool Lockout::is_locked(const LockoutState& s) const {
  return s.locked_until_ms && now_ms() < *s.locked_until_ms;
}

LockoutState Lockout::after_failure(const LockoutState& s, bool* locked_now) const {
  if (locked_now) *locked_now = false;
  if (is_locked(s)) return s;  // a lock is not extended by attempts made during it
  LockoutState next;
  // A lock that has ended starts a fresh series.
  next.failures = (s.locked_until_ms ? 0 : s.failures) + 1;
  if (next.failures >= policy_.threshold) {
    next.locked_until_ms =
        now_ms() + std::chrono::duration_cast<std::chrono::milliseconds>(policy_.duration).count();
    next.failures = 0;
    if (locked_now) *locked_now = true;
  }
  return next;
}

}  // namespace dive::identity::idp
