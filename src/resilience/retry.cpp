#include "resilience/retry.hpp"

#include <algorithm>
#include <cmath>

namespace dive::resilience {

BackoffPolicy BackoffPolicy::from_json(const Json& j, BackoffPolicy d) {
  if (!j.is_object()) return d;
  d.initial = Millis(j.value("initial_ms", static_cast<int64_t>(d.initial.count())));
  d.multiplier = j.value("multiplier", d.multiplier);
  d.max_delay = Millis(j.value("max_delay_ms", static_cast<int64_t>(d.max_delay.count())));
  d.max_jitter = Millis(j.value("max_jitter_ms", static_cast<int64_t>(d.max_jitter.count())));
  return d;
}

Millis Backoff::next() {
  double base = static_cast<double>(p_.initial.count()) * std::pow(std::max(1.0, p_.multiplier), n_);
  double cap = static_cast<double>(p_.max_delay.count());
  base = std::min(base, cap);
  ++n_;
  auto jitter = p_.max_jitter.count() > 0
                    ? static_cast<double>(rng_.uniform(0, static_cast<uint64_t>(p_.max_jitter.count())))
                    : 0.0;
  return Millis(static_cast<int64_t>(std::min(base + jitter, cap)));
}

}  // namespace dive::resilience
