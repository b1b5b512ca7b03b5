#pragma once
// Decisions cached by a hash of the complete PDP input minus its time and request id (docs/DOCUMENTS.md),
// for a classification-dependent TTL: TOP_SECRET 15 s, SECRET 30 s, CONFIDENTIAL 60 s, otherwise 300 s.
// Everything else in the input — subject attributes, acr/amr, operation, the whole label, the tenant — is
// part of the key, so a cached decision is only ever reused for an identical question — and only under the
// policy data it was decided with: entries carry the pdp's bundle revision, and once the instance's active
// revision changes (set_revision, polled from its database) older entries are misses and decisions made
// with another revision are not stored. Thread-safe: one cache serves every request thread (one mutex over
// the map and the revision; decisions are shared immutable).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "access/decision.hpp"
#include "common/clock.hpp"
#include "common/mutex.hpp"

namespace dive::access {

class DecisionCache {
 public:
  explicit DecisionCache(Clock& clock = Clock::system(), size_t capacity = 100000);

  // Hex SHA-256 of the input's canonical text without context.currentTime and context.requestId.
  static std::string key_of(const Json& input);
  // The TTL for a resource classification (canonical name; unknown names get the shortest TTL).
  static Millis ttl_for(std::string_view classification);

  // An unexpired decision, or null. Shared, never copied: a decision with its evaluation_details is a
  // tree of a few dozen nodes.
  std::shared_ptr<const Decision> get(const std::string& key);
  void put(const std::string& key, std::shared_ptr<const Decision> d, std::string_view classification);
  size_t size() const;
  void clear();
  // The active bundle revision of the instance ("" until known: entries of any revision are then used).
  void set_revision(std::string revision);
  std::string revision() const;

 private:
  struct Entry {
    std::shared_ptr<const Decision> decision;
    int64_t expires_ms;
  };
  std::string revision_ GUARDED_BY(mu_);
  void evict_locked(int64_t now) REQUIRES(mu_);

  Clock& clock_;
  size_t capacity_;
  mutable Mutex mu_;
  std::unordered_map<std::string, Entry> map_ GUARDED_BY(mu_);
};

}  // namespace dive::access
