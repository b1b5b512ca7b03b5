#include "resilience/retry.hpp"

#include <algorithm>
#include <cmath>

namespace dive::resilience {

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
