#pragma once
// The write side of revocation (implements Revoker): every revocation is applied to this process's
// mirror at once, then pushed to the shared blacklist (key + publish). When the blacklist cannot be
// reached it is kept in the local outbox (the instance database) — or, if that is down too, in memory —
// and flush() pushes it later. Nothing is lost, pushing twice is harmless, and a request never waits
// on a down Redis longer than one failed attempt (the breaker makes later ones fail at once).
//
//   RevocationStore store(redis_blacklist, pg_outbox, &mirror, Clock::system(), {.instance = "USA"});
//   store.revoke_user(uid, now_ms);      // from /api/auth/logout or the idp's end-session
//   Periodic flusher(1s, [&] { store.flush(); });
//
// Thread-safe: request threads submit while the flusher runs; mu_ guards what is pending and the last
// error (never held across a call to the blacklist or the outbox).
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mutex.hpp"
#include "identity/revocation.hpp"
#include "identity/revocation_backend.hpp"
#include "identity/revocation_limits.hpp"

namespace dive::metrics {
class Registry;
class Counter;
class Gauge;
}  // namespace dive::metrics

namespace dive::identity {

class RevocationMirror;

struct RevocationStoreConfig {
  std::string instance;  // this instance's code, carried in every event
  // How long a user entry outlives its threshold: access-token lifetime + clock skew + margin.
  Millis user_retention{kDefaultUserRetention};
  size_t flush_batch = 500;  // outbox rows read per flush
};

class RevocationStore final : public Revoker {
 public:
  enum class Outcome {
    Pushed,   // in the shared blacklist and published
    Queued,   // blacklist unreachable: in the local outbox, pushed when it is back
    Held,     // blacklist and database unreachable: in memory, pushed (or written to the outbox) later
    Expired,  // nothing left to revoke (the token or every token before the threshold has expired)
  };

  // `mirror` may be null (a process that revokes but does not check, such as the idp).
  RevocationStore(BlacklistBackend& shared, RevocationOutbox& outbox, RevocationMirror* mirror,
                  Clock& clock = Clock::system(), RevocationStoreConfig cfg = {},
                  metrics::Registry* registry = nullptr);

  void revoke_token(const std::string& jti, int64_t exp_s) override { submit_token(jti, exp_s); }
  void revoke_user(const std::string& unique_id, int64_t at_ms) override { submit_user(unique_id, at_ms); }
  Outcome submit_token(const std::string& jti, int64_t exp_s);
  Outcome submit_user(const std::string& unique_id, int64_t at_ms);
  Outcome submit(const RevocationEvent& e);

  // Applies the outbox's rows (written by any process of this instance) to the mirror and pushes them,
  // then the in-memory ones; stops pushing at the first failure. Returns how many are still pending.
  size_t flush();
  size_t pending() const;
  // What is not in the shared blacklist yet, as last seen: a resync must not drop these from the mirror.
  std::vector<RevocationEvent> pending_events() const;
  Json status() const;  // {outboxPending, heldInMemory, lastPushError, lastFlushAt}

  static std::string_view to_string(Outcome o);

 private:
  bool expired(const RevocationEvent& e) const;
  void set_gauge() REQUIRES(mu_);

  BlacklistBackend& shared_;
  RevocationOutbox& outbox_;
  RevocationMirror* mirror_;
  Clock& clock_;
  RevocationStoreConfig cfg_;
  mutable Mutex mu_;
  std::vector<RevocationOutbox::Row> durable_ GUARDED_BY(mu_);  // outbox rows not pushed yet (as last read)
  std::vector<RevocationEvent> held_ GUARDED_BY(mu_);           // not even in the outbox
  std::string last_error_ GUARDED_BY(mu_);
  int64_t last_flush_ms_ GUARDED_BY(mu_) = 0;
  metrics::Counter* m_outcome_[4] = {};
  metrics::Gauge* m_pending_ = nullptr;
};

}  // namespace dive::identity
