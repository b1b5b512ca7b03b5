#include "documents/kas_key_cache.hpp"

#include "common/mutex.hpp"

namespace dive::documents {

void KasKeyCache::refresh(pqxx::connection& conn) {
  ensure_active_kas_key(conn, kek_);
  // Keys are immutable once stored: decrypt only the ones not loaded yet.
  std::unordered_map<std::string, std::shared_ptr<const ztdf::PrivateKey>> next;
  std::string active;
  bool missing = false;
  for (const auto& k : load_kas_keys(conn, kek_, false)) {
    if (k.active) active = k.kid;
    if (auto have = private_key(k.kid)) {
      next[k.kid] = have;
    } else {
      missing = true;
    }
  }
  if (missing)
    for (auto& k : load_kas_keys(conn, kek_, true))
      if (!next.count(k.kid)) next[k.kid] = k.private_key;
  install(std::move(next), std::move(active));
}

void KasKeyCache::install(std::unordered_map<std::string, std::shared_ptr<const ztdf::PrivateKey>> keys,
                          std::string active) {
  WriterLock lock(mu_);
  keys_ = std::move(keys);
  active_ = std::move(active);
}

std::shared_ptr<const ztdf::PrivateKey> KasKeyCache::private_key(const std::string& kid) const {
  ReaderLock lock(mu_);
  auto it = keys_.find(kid);
  return it == keys_.end() ? nullptr : it->second;
}

std::string KasKeyCache::active_kid() const {
  ReaderLock lock(mu_);
  return active_;
}

size_t KasKeyCache::size() const {
  ReaderLock lock(mu_);
  return keys_.size();
}

}  // namespace dive::documents
