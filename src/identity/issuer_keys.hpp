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
// Thread-safe. Callers must only pass issuers they trust (the validator passes allow-listed ones).
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
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
    mutable std::shared_mutex mu;  // keys and times
    std::mutex fetch_mu;           // one fetch at a time; taken before mu, never after
    std::unordered_map<std::string, VerifyKey> keys;
    std::optional<SteadyTime> last_attempt, last_success, last_early;
    bool last_failed = false;
    std::string last_error;
  };
  std::shared_ptr<Entry> entry(const std::string& issuer, bool create) const;
  // Fetches if the rate limit allows (`unknown_kid`: the early refresh too); call with fetch_mu held.
  void maybe_fetch(const std::string& issuer, Entry& e, bool unknown_kid = false);
  Lookup lookup_locked(const Entry& e, const std::string& kid) const;

  JwksSource& source_;
  Clock& clock_;
  IssuerKeysOptions opts_;
  mutable std::shared_mutex map_mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<Entry>> entries_;
};

}  // namespace dive::identity
