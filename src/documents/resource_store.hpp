#pragma once
// The documents table (migration 005): insert (one statement per batch), fetch by id, and the list's SQL
// pre-filter with cursor pagination (newest first). Parameterised SQL only. Functions take a connection so
// the CLI (direct connection) and the services (pool lease) share them; the api reaches them through
// ResourceStore (below).
#include <pqxx/connection>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "documents/kas_keys.hpp"
#include "ztdf/label.hpp"

namespace dive::documents {

struct StoredResource {
  int64_t seq = 0;  // assigned by the database
  std::string resource_id;
  std::string title;
  ztdf::SecurityLabel label;  // copied from the ZTDF policy (the indexed columns)
  std::string owner;
  std::string source;      // "seed" | "upload"
  std::string seed_batch;  // the seed value of a seeded document, "" otherwise
  std::string kas_kid;
  std::string created_at;   // RFC 3339, from the database
  std::string ztdf;         // the serialized ZTDF object (empty when a query did not ask for it)
  std::string ztdf_sha256;  // hex SHA-256 of the stored text, kept by the database (migration 006)
};

// A row for insertion, from the document's ZTDF text (label, ids and kid are taken from the object).
StoredResource stored_from_ztdf(std::string ztdf_text, std::string title, std::string owner,
                                std::string source, std::string seed_batch);

// Inserts all rows in one statement; rows whose resource_id exists are skipped (seeding twice with the same
// seed value adds nothing). Returns how many rows were inserted.
size_t insert_resources(pqxx::connection& conn, const std::vector<StoredResource>& rows);

std::optional<StoredResource> find_resource(pqxx::connection& conn, const std::string& resource_id,
                                            bool with_ztdf = true);

// The stored text of each of these objects that exists: resource_id -> ztdf text.
std::map<std::string, std::string> find_ztdf_texts(pqxx::connection& conn,
                                                   const std::vector<std::string>& ids);

// The pre-filter of GET /api/resources: only rows the policy *could* allow. It never removes a row the
// policy would allow (country must be in releasabilityTo; the level filter applies only to a canonical
// clearance); the PDP then decides each row of the page.
struct ListFilter {
  std::string country;                // required: the caller's countryOfAffiliation
  std::optional<int> max_level;       // the caller's clearance level when canonical
  std::string query;                  // substring of the title (case-insensitive), "" = any
  std::optional<int> classification;  // exact level, from ?classification=
  std::string coi;                    // ?coi= (the document's COI contains it)
  std::string releasable_to;          // ?releasableTo= (releasabilityTo contains it)
  std::optional<int64_t> before_seq;  // the cursor: rows older than this
  int limit = 25;                     // rows to fetch (the caller asks for a little more than a page)
  bool with_ztdf = false;             // also read the objects (the api decides on the stored label)
};
std::vector<StoredResource> list_resources(pqxx::connection& conn, const ListFilter& f);

int64_t count_resources(pqxx::connection& conn, const std::string& source = {});

// The documents table as the api's document routes use it (access::ResourceService), behind an interface
// so that their logic is unit-tested over a fake (tests/unit/access/fake_resource_store.hpp); the database's
// is PgResourceStore (documents/pg_resource_store.hpp). Implementations are shared between worker threads.
// Every member throws StoreUnavailable when no answer can be had; other errors propagate as they are.
class ResourceStore {
 public:
  virtual ~ResourceStore() = default;
  // find_resource, find_ztdf_texts, list_resources and insert_resources above.
  virtual std::optional<StoredResource> find(const std::string& resource_id, bool with_ztdf) = 0;
  virtual std::map<std::string, std::string> ztdf_texts(const std::vector<std::string>& ids) = 0;
  virtual std::vector<StoredResource> list(const ListFilter& f) = 0;
  // Throws StoreInDoubt when the commit was not confirmed (stored or not, nobody can tell).
  virtual size_t insert(const std::vector<StoredResource>& rows) = 0;
  // The kas's active key (kid, public key; documents/kas_keys.hpp), nullopt until the kas created one.
  virtual std::optional<KasKey> active_kas_key() = 0;
};

// The store cannot answer: the database is down, hung or too slow, its breaker is open, or the pool is
// exhausted or closed.
class StoreUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// A write whose commit was sent but not confirmed: it may or may not have been stored.
class StoreInDoubt : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Appends the list JSON of a row (no payload, no wrapped keys) as text: {COI, caveats, classification,
// coiOperator, createdAt, displayMarking, encrypted, originatingCountry, releasabilityTo,
// releasableToIndustry, resourceId, title} (sorted, as a Json object would dump them).
void append_resource_summary(std::string& out, const StoredResource& r);

}  // namespace dive::documents
