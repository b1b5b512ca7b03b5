#pragma once
// The two stores behind revocation, as small interfaces so the rules in RevocationStore and the mirror
// are unit-tested with fakes. Real ones: RedisBlacklist (redis_blacklist.hpp) and PgRevocationOutbox
// (pg_revocation_outbox.hpp).
#include <cstdint>
#include <vector>

#include "common/clock.hpp"
#include "identity/revocation_event.hpp"

namespace dive::identity {

// The shared blacklist every instance reads (the hub's blacklist Redis).
class BlacklistBackend {
 public:
  virtual ~BlacklistBackend() = default;
  // Sets the event's key (token: until exp; user: keeps the largest threshold, kept for user_retention
  // after it) and publishes the event on its channel. Idempotent. Throws on any failure (unreachable,
  // breaker open): the caller keeps the event and pushes it again later.
  virtual void push(const RevocationEvent& e, Millis user_retention) = 0;
  // Every entry currently in the store (SCAN, never KEYS). Throws on failure.
  virtual std::vector<RevocationEvent> snapshot() = 0;
};

// Durable local keeping of revocations that could not be pushed yet (the instance database).
class RevocationOutbox {
 public:
  struct Row {
    int64_t id = 0;
    RevocationEvent event;
  };
  virtual ~RevocationOutbox() = default;
  virtual int64_t add(const RevocationEvent& e) = 0;   // throws when the database is unreachable
  virtual std::vector<Row> pending(size_t limit) = 0;  // oldest first; throws when unreachable
  virtual void remove(int64_t id) = 0;                 // throws when unreachable
};

}  // namespace dive::identity
