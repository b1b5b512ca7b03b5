#pragma once
// The fixtures of the audit trail's SQL tests (pg_store_test.cpp, pg_store_rows_test.cpp): a PostgreSQL of
// the test program's own, a database a test migrated up to a version, events and batches to append, and
// tampering as a superuser past the append-only trigger.
//   AuditStore  every migration (the trail as this version writes it: blocks)
//   AuditRows   up to migration 013 (records as rows in partitions), upgrade() to the rest
#include <gtest/gtest.h>

#include <cctype>
#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "audit/pg_store.hpp"
#include "common/clock.hpp"
#include "servers.hpp"
#include "store/embedded_migrations.hpp"
#include "store/migrations.hpp"

namespace dive::audit::testing {

class AuditStore : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pg_ = std::make_unique<dive::testing::TestPostgres>(); }
  static void TearDownTestSuite() { pg_.reset(); }
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "a_";
    for (char c : std::string(info->name()))
      name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    conninfo_ = pg_->create_database(name.substr(0, 60));
    migrate(up_to());
  }
  // The migration the test's database starts at (0: all of them).
  virtual int up_to() const { return 0; }
  void migrate(int version) {
    std::vector<store::Migration> ms;
    for (const auto& m : store::instance_migrations())
      if (version == 0 || m.version <= version) ms.push_back(m);
    pqxx::connection c(conninfo_);
    store::apply_migrations(c, ms, 0x0D1E0002);
  }
  pqxx::connection connect() const { return pqxx::connection(conninfo_); }

  static Event event(int i, const std::string& actor = "testuser-usa-1") {
    Event e;
    e.at_ms = Clock::system().unix_millis();
    e.type = i % 2 ? "access.read" : "auth.login";
    e.actor = actor;
    e.actor_issuer = "https://localhost:8443/realms/dive-v3-broker-usa";
    e.source_ip = "127.0.0.1";
    e.service = "api";
    e.resource = "doc-USA-" + std::to_string(i % 4);
    e.outcome = i % 3 ? kAllow : kDeny;
    e.reason = "réason ✓ " + std::to_string(i);  // multi-byte text: lengths are in bytes on both sides
    e.request_id = "r" + std::to_string(i);
    e.details = R"({"i":)" + std::to_string(i) + "}";
    return e;
  }
  void append_n(int n, const std::string& actor = "testuser-usa-1") {
    auto c = connect();
    std::vector<Event> batch;
    for (int i = 0; i < n; ++i) batch.push_back(event(i, actor));
    pqxx::nontransaction tx(c);
    append(tx, batch);
  }
  // n records written 40 days ago.
  void append_old(int n) {
    auto c = connect();
    std::vector<Event> old;
    for (int i = 0; i < n; ++i) {
      old.push_back(event(i));
      old.back().at_ms -= 40 * 86'400'000LL;
    }
    pqxx::nontransaction tx(c);
    append(tx, old);
  }
  // Ten records in four blocks (1, 2-3, 4-6, 7-10), changed by a superuser past the trigger, then verified.
  VerifyReport tampered(const std::string& sql) {
    for (int n = 1; n <= 4; ++n) append_n(n);
    as_superuser(sql);
    auto c = connect();
    return verify(c);
  }
  void as_superuser(const std::string& sql) {
    auto c = connect();
    pqxx::work tx(c);
    tx.exec("SET LOCAL session_replication_role = replica");  // past the append-only trigger
    tx.exec(sql);
    tx.commit();
  }

  // The smallest partitions allowed (10,000 records), from seq 1: a fresh instance's layout, smaller.
  void smallest_partitions() {
    auto c = connect();
    pqxx::work tx(c);
    tx.exec(
        "DROP TABLE audit_events_1; DELETE FROM audit_partitions; "
        "UPDATE audit_layout SET partition_rows = 10000; SELECT audit_extend(0)");
    tx.commit();
  }

  // One PostgreSQL a test program, a database a test.
  inline static std::unique_ptr<dive::testing::TestPostgres> pg_;
  std::string conninfo_;
};

// A trail written as rows by the previous version (migration 013: partitions, sealed when full), upgraded
// by upgrade() to blocks.
class AuditRows : public AuditStore {
 protected:
  int up_to() const override { return 13; }
  void upgrade() { migrate(0); }
  // audit_seal() as the api called it before migration 014: the oldest full partition's indexes built.
  static std::optional<std::string> seal(pqxx::connection& c) {
    pqxx::work tx(c);
    const auto row = tx.exec1("SELECT audit_seal()");
    tx.commit();
    if (row[0].is_null()) return std::nullopt;
    return row[0].as<std::string>();
  }
};

}  // namespace dive::audit::testing
