#include "documents/pg_resource_store.hpp"

#include "store/pg_pool.hpp"

namespace dive::documents {

namespace {

// fn(connection) through the pool, its failures as the store's.
template <class F>
auto through_pool(store::PgPool& db, F&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
  try {
    return db.with(std::forward<F>(fn));
  } catch (const pqxx::in_doubt_error& e) {
    throw StoreInDoubt(e.what());
  } catch (const store::PgUnavailable& e) {
    throw StoreUnavailable(e.what());
  }
}

}  // namespace

std::optional<StoredResource> PgResourceStore::find(const std::string& resource_id, bool with_ztdf) {
  return through_pool(db_, [&](pqxx::connection& c) { return find_resource(c, resource_id, with_ztdf); });
}

std::map<std::string, std::string> PgResourceStore::ztdf_texts(const std::vector<std::string>& ids) {
  return through_pool(db_, [&](pqxx::connection& c) { return find_ztdf_texts(c, ids); });
}

std::vector<StoredResource> PgResourceStore::list(const ListFilter& f) {
  return through_pool(db_, [&](pqxx::connection& c) { return list_resources(c, f); });
}

size_t PgResourceStore::insert(const std::vector<StoredResource>& rows) {
  return through_pool(db_, [&](pqxx::connection& c) { return insert_resources(c, rows); });
}

std::optional<KasKey> PgResourceStore::active_kas_key() {
  return through_pool(db_, [](pqxx::connection& c) { return active_kas_public_key(c); });
}

}  // namespace dive::documents
