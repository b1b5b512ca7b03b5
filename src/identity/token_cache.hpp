#pragma once
// The cache of validated tokens, keyed by the SHA-256 of the WHOLE token (never a prefix: every RS256
// token starts with the same header bytes). An entry lives until its token's validity ends (exp plus
// the allowed skew). Bounded: when a shard is full, expired entries go first, then the entry closest to
// its expiry. Thread-safe: sharded with a reader/writer lock per shard, so lookups from many request
// threads do not contend.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/mutex.hpp"
#include "identity/verified_token.hpp"

namespace dive::identity {

class TokenCache {
 public:
  // capacity: the total number of entries kept (at least one per shard).
  explicit TokenCache(size_t capacity, size_t shards = 16);

  struct Hit {
    std::shared_ptr<const VerifiedToken> token;  // null: not cached
    bool expired = false;                        // cached, but now > valid_until (the entry is dropped)
  };
  // key: the 32-byte SHA-256 of the token; now: unix seconds.
  Hit find(const std::string& key, int64_t now);
  // valid_until: the last unix second at which the token is still accepted.
  void insert(const std::string& key, std::shared_ptr<const VerifiedToken> token, int64_t valid_until,
              int64_t now);
  void clear();
  size_t size() const;
  size_t capacity() const { return per_shard_ * shards_.size(); }

 private:
  struct Shard {
    struct Item {
      std::shared_ptr<const VerifiedToken> token;
      std::multimap<int64_t, std::string>::iterator by_expiry;
    };
    mutable SharedMutex mu;
    std::unordered_map<std::string, Item> items GUARDED_BY(mu);
    std::multimap<int64_t, std::string> expiry GUARDED_BY(mu);  // valid_until -> key, earliest first
    void erase_locked(std::unordered_map<std::string, Item>::iterator it) REQUIRES(mu);
  };
  Shard& shard_for(const std::string& key);

  size_t per_shard_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace dive::identity
