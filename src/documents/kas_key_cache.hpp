#pragma once
// The KAS's keys in memory (kid -> private key), refreshed from the database so a rotation made by
// `./dive ... kas rotate` or another process is picked up without a restart. Thread-safe: request threads
// read under a shared lock while the refresh thread swaps in the new map under the exclusive lock.
#include <memory>
#include <string>
#include <unordered_map>

#include "common/mutex.hpp"
#include "documents/kas_keys.hpp"

namespace dive::documents {

class KasKeyCache {
 public:
  explicit KasKeyCache(std::string kek) : kek_(std::move(kek)) {}

  // Creates the first key pair when there is none, then loads every key. Throws on database errors.
  void refresh(pqxx::connection& conn);
  // Replaces the keys held by `keys` (kid -> private key), `active` the kid new documents are wrapped to:
  // what refresh() ends with, after reading the database.
  void install(std::unordered_map<std::string, std::shared_ptr<const ztdf::PrivateKey>> keys,
               std::string active);

  std::shared_ptr<const ztdf::PrivateKey> private_key(const std::string& kid) const;
  std::string active_kid() const;
  size_t size() const;

 private:
  std::string kek_;
  mutable SharedMutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const ztdf::PrivateKey>> keys_ GUARDED_BY(mu_);
  std::string active_ GUARDED_BY(mu_);
};

}  // namespace dive::documents
