#pragma once
// ResourceStore over the instance's database: each member is one PgPool::with() call of the function of
// documents/resource_store.hpp (or kas_keys.hpp) it names, PgUnavailable rethrown as StoreUnavailable and
// pqxx::in_doubt_error as StoreInDoubt. Shared between worker threads (the pool is).
#include "documents/resource_store.hpp"

namespace dive::store {
class PgPool;
}

namespace dive::documents {

class PgResourceStore final : public ResourceStore {
 public:
  explicit PgResourceStore(store::PgPool& db) : db_(db) {}  // the pool must outlive the store

  std::optional<StoredResource> find(const std::string& resource_id, bool with_ztdf) override;
  std::map<std::string, std::string> ztdf_texts(const std::vector<std::string>& ids) override;
  std::vector<StoredResource> list(const ListFilter& f) override;
  size_t insert(const std::vector<StoredResource>& rows) override;
  std::optional<KasKey> active_kas_key() override;

 private:
  store::PgPool& db_;
};

}  // namespace dive::documents
