#pragma once
// The verification keys of each trusted issuer, fetched from a JwksSource and cached.
//
// - First use of an issuer fetches its JWK Set.
// - A kid that is not in the cached set triggers a refresh, at most once per `min_refresh_interval`
//   (10 s) per issuer, counting failed attempts too; concurrent misses wait for the one fetch in flight.
//   Besides, once per `min_refresh_interval`, a miss may refresh as soon as `early_refresh_after` (1 s) has
//   passed since the last attempt: a key rotated in moments after a fetch (a token signed with it arrives
//   while the set is 1-10 s old) is picked up within a second, and a flood of made-up kids still costs at
//   most two fetches per interval.
// - Keys older than `max_age` are refreshed on use (best effort: a failed refresh keeps the old keys, and
//   only the thread that wins the fetch waits for it).
// - A refresh replaces the whole set, so a key the issuer stopped publishing stops verifying.
// Thread-safe: every request thread looks keys up; map_mu_ guards the map of issuers, each issuer's mu its
// keys (shared for lookups), and its fetch_mu lets one thread fetch at a time (taken before mu, never
// after). Callers must only pass issuers they trust (the validator passes allow-listed ones).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/mutex.hpp"
#include "identity/jwks_source.hpp"
#include "identity/keys.hpp"

namespace dive::identity {

struct IssuerKeysOptions {
  Millis min_refresh_interval{10000};
  Millis max_age{3600000};
  Millis early_refresh_after{1000};
};

class IssuerKeys {
 public:
  IssuerKeys(JwksSource& source, Clock& clock, IssuerKeysOptions opts = {});

  enum class Status {
    Found,
    UnknownKid,   // the issuer's current set has no such kid (or a refresh was not allowed yet)
    Unavailable,  // the set could not be fetched and the kid is not among the keys held
  };
  struct Lookup {
    Status status = Status::Unavailable;
    std::optional<VerifyKey> key;
    std::string detail;  // log-safe explanation when not found
  };
  Lookup find(const std::string& issuer, const std::string& kid);

  // Fetches the issuer's set now unless the last attempt was less than min_refresh_interval ago.
  // True when the issuer has keys afterwards.
  bool refresh(const std::string& issuer);
  // Drops an issuer's keys (e.g. when it leaves the allow-list).
  void forget(const std::string& issuer);
  // The kids currently held for an issuer (diagnostics, health).
  std::vector<std::string> kids(const std::string& issuer) const;

 private:
  struct Entry {
    Mutex fetch_mu ACQUIRED_BEFORE(mu);  // one fetch at a time
    mutable SharedMutex mu;              // keys and times
    std::unordered_map<std::string, VerifyKey> keys GUARDED_BY(mu);
    std::optional<SteadyTime> last_attempt GUARDED_BY(mu);
    std::optional<SteadyTime> last_success GUARDED_BY(mu);
    std::optional<SteadyTime> last_early GUARDED_BY(mu);
    bool last_failed GUARDED_BY(mu) = false;
    std::string last_error GUARDED_BY(mu);
  };
  std::shared_ptr<Entry> entry(const std::string& issuer, bool create) const EXCLUDES(map_mu_);
  // Fetches if the rate limit allows (`unknown_kid`: the early refresh too).
  void maybe_fetch(const std::string& issuer, Entry& e, bool unknown_kid = false) REQUIRES(e.fetch_mu);
  Lookup lookup_locked(const Entry& e, const std::string& kid) const REQUIRES_SHARED(e.mu);

  JwksSource& source_;
  Clock& clock_;
  IssuerKeysOptions opts_;
  mutable SharedMutex map_mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<Entry>> entries_ GUARDED_BY(map_mu_);
};

}  // namespace dive::identity
