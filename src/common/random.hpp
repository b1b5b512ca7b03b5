#pragma once
// Randomness behind an interface: jitter and test data use a seedable generator, secrets use the OS CSPRNG.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/mutex.hpp"

namespace dive {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t next_u64() = 0;
  // Uniform in [lo, hi] (inclusive). Requires lo <= hi.
  uint64_t uniform(uint64_t lo, uint64_t hi) {
    if (hi <= lo) return lo;
    uint64_t span = hi - lo + 1;
    return span == 0 ? next_u64() : lo + next_u64() % span;
  }
  double uniform01() { return static_cast<double>(next_u64() >> 11) * (1.0 / 9007199254740992.0); }
  static Random& system();  // thread-safe (OpenSSL's DRBG, no state here), seeded from the OS
};

// Deterministic and seedable (tests, seeding with --seed-random). Thread-safe: one mutex around the
// generator (the sequence across threads then depends on their interleaving).
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : gen_(seed) {}
  uint64_t next_u64() override {
    MutexLock lock(mu_);
    return gen_();
  }

 private:
  Mutex mu_;
  std::mt19937_64 gen_ GUARDED_BY(mu_);
};

// Cryptographically secure bytes from OpenSSL's DRBG. Throws on failure.
std::vector<unsigned char> secure_random_bytes(size_t n);
// A random secret of n bytes rendered URL-safe (base64url, no padding).
std::string secure_token(size_t n_bytes = 32);

}  // namespace dive
