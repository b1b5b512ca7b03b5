#pragma once
// The decision cache of an enforcement point (docs/DOCUMENTS.md), behind an interface with two
// implementations: TtlDecisionCache, which keeps decisions by their DecisionKey for a
// classification-dependent TTL, and NullDecisionCache, which keeps nothing (the kas: no key is released
// without a fresh decision; an api with api.decision_cache false). An Authorizer is handed one or the other
// and never asks which.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "access/decision.hpp"
#include "access/decision_key.hpp"
#include "common/clock.hpp"
#include "common/mutex.hpp"

namespace dive::access {

class DecisionCache {
 public:
  virtual ~DecisionCache() = default;

  // An unexpired decision for the key, or null. Shared, never copied: a decision with its
  // evaluation_details is a tree of a few dozen nodes.
  virtual std::shared_ptr<const Decision> get(const DecisionKey& key) = 0;
  // Keeps a decision on a resource of `classification` (canonical name) for that classification's TTL.
  virtual void put(const DecisionKey& key, std::shared_ptr<const Decision> d,
                   std::string_view classification) = 0;
  virtual size_t size() const = 0;
  // The active bundle revision of the instance ("" until known: entries of any revision are then used).
  virtual void set_revision(std::string revision) = 0;

  // The TTL for a resource classification: TOP_SECRET 15 s, SECRET 30 s, CONFIDENTIAL 60 s, RESTRICTED and
  // UNCLASSIFIED 300 s; an unknown name gets the shortest.
  static Millis ttl_for(std::string_view classification);
};

// Decisions kept for their classification's TTL — and only under the policy data they were decided with:
// entries carry the pdp's bundle revision, and once the instance's active revision changes (set_revision,
// polled from its database) older entries are misses and decisions made with another revision are not
// stored. At `capacity`, expired entries are dropped, then a quarter of the rest. Thread-safe: one cache
// serves every request thread (one mutex over the map and the revision; decisions are shared immutable).
class TtlDecisionCache final : public DecisionCache {
 public:
  explicit TtlDecisionCache(Clock& clock = Clock::system(), size_t capacity = 100000);

  std::shared_ptr<const Decision> get(const DecisionKey& key) override;
  void put(const DecisionKey& key, std::shared_ptr<const Decision> d,
           std::string_view classification) override;
  size_t size() const override;
  void set_revision(std::string revision) override;

 private:
  struct Entry {
    std::shared_ptr<const Decision> decision;
    int64_t expires_ms;
  };
  void evict_locked(int64_t now) REQUIRES(mu_);

  Clock& clock_;
  size_t capacity_;
  mutable Mutex mu_;
  std::string revision_ GUARDED_BY(mu_);
  std::unordered_map<std::string, Entry> map_ GUARDED_BY(mu_);
};

// Keeps nothing: every get is a miss. Thread-safe (stateless).
class NullDecisionCache final : public DecisionCache {
 public:
  std::shared_ptr<const Decision> get(const DecisionKey&) override { return nullptr; }
  void put(const DecisionKey&, std::shared_ptr<const Decision>, std::string_view) override {}
  size_t size() const override { return 0; }
  void set_revision(std::string) override {}
};

}  // namespace dive::access
