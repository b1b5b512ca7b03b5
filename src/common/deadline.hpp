#pragma once
// The deadline of the request the current thread is serving (docs/RESILIENCE.md). The HTTP server sets it
// around each handler (ServerConfig::request_deadline); every wait on a dependency made on that thread —
// a pooled database connection, a database call, an outgoing HTTPS call — is clamped to the time left, so
// that no request waits longer than its deadline whatever the dependencies' own timeouts add up to. A
// thread serving no request has no deadline and the dependencies' own bounds apply alone.
//
// Thread-local: nothing is shared between threads. Work a handler hands to another thread (the federated
// search's fan-out) carries a deadline of its own.
#include <algorithm>
#include <chrono>
#include <optional>

#include "common/clock.hpp"

namespace dive {

class RequestDeadline {
 public:
  // Sets this thread's deadline until the scope ends (the outer one is restored; nullopt: none).
  class Scope {
   public:
    explicit Scope(std::optional<SteadyTime> at) : previous_(slot()) { slot() = at; }
    ~Scope() { slot() = previous_; }
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    std::optional<SteadyTime> previous_;
  };

  static std::optional<SteadyTime> current() { return slot(); }

  // `bound`, shortened to the time left before this thread's deadline (0 once it passed).
  static Millis clamp(Millis bound) {
    const auto& at = slot();
    if (!at) return bound;
    const auto left = std::chrono::duration_cast<Millis>(*at - std::chrono::steady_clock::now());
    return std::clamp(left, Millis(0), bound);
  }
  // The earlier of `t` and this thread's deadline.
  static SteadyTime earliest(SteadyTime t) {
    const auto& at = slot();
    return at ? std::min(t, *at) : t;
  }

 private:
  static std::optional<SteadyTime>& slot() {
    thread_local std::optional<SteadyTime> deadline;
    return deadline;
  }
};

}  // namespace dive
