#pragma once
// Time sources behind a small interface so that every time-dependent piece of logic
// (breakers, backoff, caches, token expiry) can be unit-tested with a fake clock.
#include <atomic>
#include <chrono>
#include <cstdint>

namespace dive {

using SteadyTime = std::chrono::steady_clock::time_point;
using SystemTime = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime now() const = 0;   // monotonic, for intervals and deadlines
  virtual SystemTime wall() const = 0;  // calendar time, for timestamps and token exp
  int64_t unix_seconds() const {
    return std::chrono::duration_cast<std::chrono::seconds>(wall().time_since_epoch()).count();
  }
  int64_t unix_millis() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(wall().time_since_epoch()).count();
  }
  static Clock& system();
};

// Thread-safe: stateless.
class SystemClock final : public Clock {
 public:
  SteadyTime now() const override { return std::chrono::steady_clock::now(); }
  SystemTime wall() const override { return std::chrono::system_clock::now(); }
};

inline Clock& Clock::system() {
  static SystemClock clock;
  return clock;
}

// A clock that moves only when told to. Thread-safe: tests advance it while worker threads read it; the
// two times are atomics (advance() moves them one after the other, not as one step).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(SystemTime start = SystemTime{std::chrono::seconds{1'700'000'000}})
      : steady_ns_(1'000'000'000),
        wall_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count()) {}
  SteadyTime now() const override { return SteadyTime{std::chrono::nanoseconds{steady_ns_.load()}}; }
  SystemTime wall() const override {
    return SystemTime{
        std::chrono::duration_cast<SystemTime::duration>(std::chrono::nanoseconds{wall_ns_.load()})};
  }
  template <class Rep, class Period>
  void advance(std::chrono::duration<Rep, Period> d) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    steady_ns_ += ns;
    wall_ns_ += ns;
  }

 private:
  std::atomic<int64_t> steady_ns_;
  std::atomic<int64_t> wall_ns_;
};

// Seconds with fractions between two steady points (for metrics).
inline double seconds_between(SteadyTime a, SteadyTime b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace dive
