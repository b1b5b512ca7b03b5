#include "identity/token_cache.hpp"

#include <cstring>

#include "common/mutex.hpp"

namespace dive::identity {

TokenCache::TokenCache(size_t capacity, size_t shards) {
  if (shards == 0) shards = 1;
  per_shard_ = std::max<size_t>(1, (capacity + shards - 1) / shards);
  shards_.reserve(shards);
  for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

TokenCache::Shard& TokenCache::shard_for(const std::string& key) {
  // The key is a SHA-256 digest: its leading bytes are already uniformly distributed.
  uint64_t v = 0;
  std::memcpy(&v, key.data(), std::min(sizeof v, key.size()));
  return *shards_[v % shards_.size()];
}

void TokenCache::Shard::erase_locked(std::unordered_map<std::string, Item>::iterator it) {
  expiry.erase(it->second.by_expiry);
  items.erase(it);
}

TokenCache::Hit TokenCache::find(const std::string& key, int64_t now) {
  Shard& s = shard_for(key);
  {
    ReaderLock lock(s.mu);
    auto it = s.items.find(key);
    if (it == s.items.end()) return {};
    if (now <= it->second.by_expiry->first) return {it->second.token, false};
  }
  WriterLock lock(s.mu);
  auto it = s.items.find(key);
  if (it != s.items.end() && now > it->second.by_expiry->first) s.erase_locked(it);
  return {nullptr, true};
}

void TokenCache::insert(const std::string& key, std::shared_ptr<const VerifiedToken> token,
                        int64_t valid_until, int64_t now) {
  if (now > valid_until) return;
  Shard& s = shard_for(key);
  WriterLock lock(s.mu);
  if (auto it = s.items.find(key); it != s.items.end()) s.erase_locked(it);
  while (!s.expiry.empty() && s.expiry.begin()->first < now)
    s.erase_locked(s.items.find(s.expiry.begin()->second));
  while (s.items.size() >= per_shard_) s.erase_locked(s.items.find(s.expiry.begin()->second));
  auto pos = s.expiry.emplace(valid_until, key);
  s.items.emplace(key, Shard::Item{std::move(token), pos});
}

void TokenCache::clear() {
  for (auto& s : shards_) {
    WriterLock lock(s->mu);
    s->items.clear();
    s->expiry.clear();
  }
}

size_t TokenCache::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    ReaderLock lock(s->mu);
    n += s->items.size();
  }
  return n;
}

}  // namespace dive::identity
