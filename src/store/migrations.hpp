#pragma once
// Numbered SQL migrations, applied at start-up and recorded in `schema_migrations`.
#include <cstdint>
#include <pqxx/connection>
#include <stdexcept>
#include <string>
#include <vector>

namespace dive::store {

struct Migration {
  int version;       // > 0, unique within a set
  std::string name;  // for messages and the schema_migrations row
  std::string sql;   // one or more statements; must not manage transactions itself
};

// The database has migrations this binary does not know (it was written by a newer DIVE): nothing is applied
// and nothing may start against it (docs/ORCHESTRATION.md, "Upgrades").
class SchemaTooNew : public std::runtime_error {
 public:
  SchemaTooNew(int database_version, int known_version);
  int database_version() const { return database_; }
  int known_version() const { return known_; }

 private:
  int database_, known_;
};

// Applies, in version order, every migration whose version is not yet in
// schema_migrations(version int primary key, name text, checksum text, applied_at timestamptz default now()).
// Each migration runs in its own transaction together with its schema_migrations row, so a failing one
// rolls back only itself (earlier ones stay applied) and the error names it. pg_advisory_lock(lock_key) is
// held on this connection for the whole run, so concurrent starters do not race. An applied migration whose
// checksum (sha256 hex of its SQL) is not one of accepted_checksums() is an error naming it, checked before
// anything is applied; an applied version this set does not have throws SchemaTooNew, also before anything is
// applied. Runs under the connection's own settings (statement_timeout too). Returns the versions applied
// now. Throws std::invalid_argument for a bad set (version <= 0, duplicates), std::runtime_error otherwise.
std::vector<int> apply_migrations(pqxx::connection& conn, const std::vector<Migration>& migrations,
                                  int64_t lock_key);

// Highest applied version; 0 when none (or no schema_migrations table yet).
int current_schema_version(pqxx::connection& conn);

// sha256 hex of the SQL, as stored in schema_migrations.checksum.
std::string migration_checksum(const Migration& m);
// The checksums an applied copy of `m` may carry: its own, and those named on lines
// "-- former checksum (comments changed only): <hex>" of its SQL — the record of an edit of its comments
// alone (the statements must be byte for byte the same; reviewers check that in the diff).
std::vector<std::string> accepted_checksums(const Migration& m);

}  // namespace dive::store
