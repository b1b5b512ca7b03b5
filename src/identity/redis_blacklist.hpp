#pragma once
// The shared blacklist in Redis (the hub's blacklist Redis), every call through the "blacklist_redis"
// circuit breaker. Keys, values and channels: revocation_event.hpp.
#include "common/clock.hpp"
#include "identity/revocation_backend.hpp"

namespace dive::store {
class RedisClient;
}
namespace dive::resilience {
class CircuitBreaker;
}

namespace dive::identity {

class RedisBlacklist final : public BlacklistBackend {
 public:
  RedisBlacklist(store::RedisClient& redis, resilience::CircuitBreaker& breaker,
                 Clock& clock = Clock::system());

  // token: SET blacklist:<jti> <event> PXAT exp; user: a script keeps the largest threshold, with a TTL
  // of user_retention past it; then PUBLISH. Throws on failure (BreakerOpenError while the breaker is open).
  void push(const RevocationEvent& e, Millis user_retention) override;
  // SCAN both prefixes, MGET the values in batches.
  std::vector<RevocationEvent> snapshot() override;

 private:
  store::RedisClient& redis_;
  resilience::CircuitBreaker& breaker_;
  Clock& clock_;
};

}  // namespace dive::identity
