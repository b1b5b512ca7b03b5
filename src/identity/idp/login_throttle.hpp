#pragma once
// Abuse limits on password and one-time-code attempts (docs/IDP.md, "Abuse limits"), in front of the
// argon2 verification that makes each attempt cost 19 MiB and tens of milliseconds of a core:
//
//   - at most `max_in_flight` attempts are evaluated at once in the whole idp (the rest are refused at
//     once, never queued on a worker thread), so a flood of logins cannot starve discovery, JWKS, client
//     credentials or refresh, which need no hash;
//   - per account (the normalised username, known or not) at most `account_in_flight` attempts at once and
//     `account_failures` failures per `window`;
//   - per source address at most `source_failures` failures per `window`, counting attempts still in
//     flight as failures until they end, so that a burst of concurrent guesses is cut off before it is
//     evaluated.
//
// A refused attempt gets 429 with Retry-After; it costs nothing and does not count as a failure (the
// account lockout, which counts evaluated failures, is separate: identity/idp/lockout.hpp).
//
//   auto admission = throttle.admit(username, req.remote_ip);
//   if (!admission.ticket) -> 429, Retry-After: admission.retry_after_s
//   ... verify ...; admission.ticket->failed();   // or succeeded(): the ticket's end releases its slots
//
// Thread-safe: one instance serves every worker thread (one mutex; every call is O(1) amortised). Memory
// is bounded: at most `max_tracked` accounts and sources are remembered (the oldest entries go first).
#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mutex.hpp"

namespace dive::identity::idp {

struct ThrottleConfig {
  int max_in_flight = 8;
  int account_in_flight = 2;
  int account_failures = 10;
  int source_failures = 30;
  std::chrono::seconds window{60};
  size_t max_tracked = 10000;

  // From instance.json idp.throttle {max_in_flight, account_in_flight, account_failures, source_failures,
  // window_s}; missing keys keep the defaults, values below 1 are refused (std::invalid_argument).
  static ThrottleConfig from_json(const Json& j);
};

class LoginThrottle {
  class Key {  // only the throttle makes tickets
    friend class LoginThrottle;
    Key() = default;
  };

 public:
  explicit LoginThrottle(ThrottleConfig cfg, Clock& clock = Clock::system());
  ~LoginThrottle();
  LoginThrottle(const LoginThrottle&) = delete;
  LoginThrottle& operator=(const LoginThrottle&) = delete;

  // One admitted attempt: holds its slots until destroyed; failed() records a failure for its account
  // and source first.
  class Ticket {
   public:
    Ticket(Key, LoginThrottle& t, std::string account, std::string source)
        : throttle_(t), account_(std::move(account)), source_(std::move(source)) {}
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    void failed();

   private:
    LoginThrottle& throttle_;
    std::string account_, source_;
    bool failed_ = false;
  };

  enum class Limit { None, Busy, Account, Source };
  struct Admission {
    std::unique_ptr<Ticket> ticket;  // null: refused
    Limit limit = Limit::None;       // what refused it
    int retry_after_s = 0;
  };
  Admission admit(const std::string& account, const std::string& source);

  int in_flight() const;
  const ThrottleConfig& config() const { return cfg_; }

 private:
  struct Track {
    int in_flight = 0;
    std::deque<SteadyTime> failures;  // within the window, oldest first (at most the limit kept)
    std::list<std::string>::iterator lru;
  };
  using Map = std::unordered_map<std::string, Track>;

  void release(const std::string& account, const std::string& source, bool failed) EXCLUDES(mu_);
  // On the maps and entries below (passed in): all with mu_ held.
  Track& track(Map& map, std::list<std::string>& lru, const std::string& key) REQUIRES(mu_);
  void prune(Track& t, SteadyTime now) const REQUIRES(mu_);
  int retry_after(const Track& t, SteadyTime now) const REQUIRES(mu_);
  void forget_idle(Map& map, std::list<std::string>& lru) REQUIRES(mu_);

  ThrottleConfig cfg_;
  Clock& clock_;
  mutable Mutex mu_;
  int in_flight_ GUARDED_BY(mu_) = 0;
  Map accounts_ GUARDED_BY(mu_);
  Map sources_ GUARDED_BY(mu_);
  std::list<std::string> account_lru_ GUARDED_BY(mu_);  // most recently used first
  std::list<std::string> source_lru_ GUARDED_BY(mu_);
};

std::string_view to_string(LoginThrottle::Limit l);  // "none", "busy", "account", "source"

}  // namespace dive::identity::idp
