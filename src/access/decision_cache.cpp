#include "access/decision_cache.hpp"

namespace dive::access {

namespace {
int64_t steady_ms(const Clock& c) {
  return std::chrono::duration_cast<Millis>(c.now().time_since_epoch()).count();
}
}  // namespace

TtlDecisionCache::TtlDecisionCache(Clock& clock, size_t capacity) : clock_(clock), capacity_(capacity) {}

Millis DecisionCache::ttl_for(std::string_view c) {
  if (c == "TOP_SECRET" || c == "TOP SECRET") return Millis(15000);
  if (c == "SECRET") return Millis(30000);
  if (c == "CONFIDENTIAL") return Millis(60000);
  if (c == "UNCLASSIFIED" || c == "RESTRICTED") return Millis(300000);
  return Millis(15000);
}

std::shared_ptr<const Decision> TtlDecisionCache::get(const DecisionKey& key) {
  int64_t now = steady_ms(clock_);
  MutexLock lock(mu_);
  auto it = map_.find(key.hex());
  if (it == map_.end()) return nullptr;
  if (it->second.expires_ms <= now ||
      (!revision_.empty() && it->second.decision->policy_revision != revision_)) {
    map_.erase(it);
    return nullptr;
  }
  return it->second.decision;
}

void TtlDecisionCache::set_revision(std::string revision) {
  MutexLock lock(mu_);
  revision_ = std::move(revision);
}

void TtlDecisionCache::put(const DecisionKey& key, std::shared_ptr<const Decision> d,
                           std::string_view classification) {
  int64_t now = steady_ms(clock_);
  MutexLock lock(mu_);
  // Decided with other data than the instance's active bundle (the pdp has not switched yet): not kept.
  if (!revision_.empty() && d->policy_revision != revision_) return;
  if (map_.size() >= capacity_) evict_locked(now);
  map_[key.hex()] = Entry{std::move(d), now + ttl_for(classification).count()};
}

void TtlDecisionCache::evict_locked(int64_t now) {
  for (auto it = map_.begin(); it != map_.end();)
    it = it->second.expires_ms <= now ? map_.erase(it) : std::next(it);
  // Still full of live entries: drop a quarter (arbitrary ones); a miss only costs a PDP call.
  for (auto it = map_.begin(); it != map_.end() && map_.size() > capacity_ * 3 / 4;) it = map_.erase(it);
}

size_t TtlDecisionCache::size() const {
  MutexLock lock(mu_);
  return map_.size();
}

}  // namespace dive::access
