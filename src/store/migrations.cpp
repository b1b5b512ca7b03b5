#include "store/migrations.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>
#include <stdexcept>

#include "common/encoding.hpp"
#include "store/error_text.hpp"

namespace dive::store {

namespace {

std::string label(const Migration& m) {
  char num[16];
  std::snprintf(num, sizeof num, "%03d", m.version);
  return std::string(num) + "_" + m.name;
}

// Session-level advisory lock, released when the run ends (or with the session, when the connection is lost).
class AdvisoryLock {
 public:
  AdvisoryLock(pqxx::connection& conn, int64_t key) : conn_(conn), key_(key) {
    pqxx::nontransaction tx(conn_);
    tx.exec_params("SELECT pg_advisory_lock($1::bigint)", key_);
  }
  ~AdvisoryLock() {
    try {
      pqxx::nontransaction tx(conn_);
      tx.exec_params("SELECT pg_advisory_unlock($1::bigint)", key_);
    } catch (const std::exception& e) {
      spdlog::warn("migrations: cannot release advisory lock {}: {}", key_, one_line(e.what()));
    }
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  pqxx::connection& conn_;
  int64_t key_;
};

void ensure_table(pqxx::connection& conn) {
  pqxx::work tx(conn);
  tx.exec("SET LOCAL client_min_messages = warning");  // no NOTICE when the table exists
  tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version int PRIMARY KEY,"
      " name text NOT NULL,"
      " checksum text NOT NULL,"
      " applied_at timestamptz NOT NULL DEFAULT now())");
  tx.commit();
}

struct Applied {
  std::string name, checksum;
};

std::map<int, Applied> read_applied(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  std::map<int, Applied> out;
  for (const auto& row : tx.exec("SELECT version, name, checksum FROM schema_migrations"))
    out[row[0].as<int>()] = Applied{row[1].as<std::string>(), row[2].as<std::string>()};
  return out;
}

std::vector<const Migration*> sorted_checked(const std::vector<Migration>& migrations) {
  std::vector<const Migration*> out;
  for (const auto& m : migrations) {
    if (m.version <= 0)
      throw std::invalid_argument("migration " + m.name + ": version must be positive, got " +
                                  std::to_string(m.version));
    out.push_back(&m);
  }
  std::sort(out.begin(), out.end(), [](auto* a, auto* b) { return a->version < b->version; });
  for (size_t i = 1; i < out.size(); ++i)
    if (out[i]->version == out[i - 1]->version)
      throw std::invalid_argument("migrations " + label(*out[i - 1]) + " and " + label(*out[i]) +
                                  " share version " + std::to_string(out[i]->version));
  return out;
}

}  // namespace

SchemaTooNew::SchemaTooNew(int database_version, int known_version)
    : std::runtime_error(
          "the database's schema is at version " + std::to_string(database_version) +
          ", newer than this binary knows (" + std::to_string(known_version) +
          "): it was written by a newer DIVE; run that version (or newer), or restore a backup "
          "taken with this one. Nothing was changed."),
      database_(database_version),
      known_(known_version) {}

std::string migration_checksum(const Migration& m) {
  return sha256_hex(m.sql);
}

std::vector<std::string> accepted_checksums(const Migration& m) {
  static constexpr std::string_view kMarker = "-- former checksum (comments changed only): ";
  std::vector<std::string> out{migration_checksum(m)};
  for (size_t pos = m.sql.find(kMarker); pos != std::string::npos; pos = m.sql.find(kMarker, pos + 1)) {
    if (pos != 0 && m.sql[pos - 1] != '\n') continue;  // at the start of a line only
    const size_t start = pos + kMarker.size();
    out.push_back(m.sql.substr(start, m.sql.find_first_of("\r\n", start) - start));
  }
  return out;
}

std::vector<int> apply_migrations(pqxx::connection& conn, const std::vector<Migration>& migrations,
                                  int64_t lock_key) {
  const auto ordered = sorted_checked(migrations);
  AdvisoryLock lock(conn, lock_key);
  ensure_table(conn);
  const auto applied = read_applied(conn);

  // Every applied migration must be the one we have: checked before anything new is applied.
  std::set<int> known;
  for (const Migration* m : ordered) {
    known.insert(m->version);
    auto it = applied.find(m->version);
    if (it == applied.end()) continue;
    const std::string sum = migration_checksum(*m);
    const auto accepted = accepted_checksums(*m);
    if (std::find(accepted.begin(), accepted.end(), it->second.checksum) == accepted.end())
      throw std::runtime_error(
          "migration " + label(*m) + " was changed after it was applied (checksum in schema_migrations " +
          it->second.checksum + ", now " + sum + "): never edit an applied migration, add a new one");
  }
  for (const auto& [version, row] : applied)
    if (!known.count(version))
      throw SchemaTooNew(applied.rbegin()->first, ordered.empty() ? 0 : ordered.back()->version);

  std::vector<int> done;
  for (const Migration* m : ordered) {
    if (applied.count(m->version)) continue;
    try {
      pqxx::work tx(conn);
      tx.exec(m->sql);
      tx.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                     m->version, m->name, migration_checksum(*m));
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      throw std::runtime_error("migration " + label(*m) +
                               " failed (rolled back; earlier ones stay applied): " + one_line(e.what()));
    }
    spdlog::info("migrations: applied {}", label(*m));
    done.push_back(m->version);
  }
  return done;
}

int current_schema_version(pqxx::connection& conn) {
  pqxx::nontransaction tx(conn);
  if (!tx.exec("SELECT to_regclass('schema_migrations') IS NOT NULL")[0][0].as<bool>()) return 0;
  return tx.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<int>();
}

}  // namespace dive::store
