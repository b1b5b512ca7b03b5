#include "store/migrations.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <set>
#include <thread>

#include "common/encoding.hpp"
#include "servers.hpp"
#include "store/embedded_migrations.hpp"
#include "store_test_support.hpp"

using namespace dive;
using namespace dive::store;
using dive::testing::TestPostgres;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kLockKey = 0x44495645;  // "DIVE"

int count(pqxx::connection& c, const std::string& sql) {
  pqxx::nontransaction tx(c);
  return tx.exec(sql)[0][0].as<int>();
}

bool table_exists(pqxx::connection& c, const std::string& name) {
  pqxx::nontransaction tx(c);
  return !tx.exec_params("SELECT to_regclass($1)", name)[0][0].is_null();
}

}  // namespace

class MigrationsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pg_ = new TestPostgres(); }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  // A fresh database per test.
  void SetUp() override { conninfo_ = pg_->create_database(store::test::db_name_for_test()); }
  static TestPostgres* pg_;
  std::string conninfo_;
};
TestPostgres* MigrationsTest::pg_ = nullptr;

TEST_F(MigrationsTest, FreshDatabaseHasVersionZero) {
  pqxx::connection c(conninfo_);
  EXPECT_EQ(current_schema_version(c), 0);
}

TEST_F(MigrationsTest, AppliesInVersionOrderOnceAndIsIdempotent) {
  const std::vector<Migration> set{
      {2, "add_b", "ALTER TABLE a ADD COLUMN b text; INSERT INTO a VALUES (1, 'one');"},
      {1, "create_a", "CREATE TABLE a (id int PRIMARY KEY)"},
      {3, "create_c", "CREATE TABLE c (x int)"},
  };
  pqxx::connection c(conninfo_);
  EXPECT_EQ(apply_migrations(c, set, kLockKey), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(current_schema_version(c), 3);
  EXPECT_EQ(count(c, "SELECT count(*) FROM a WHERE b = 'one'"), 1);

  EXPECT_TRUE(apply_migrations(c, set, kLockKey).empty());  // nothing runs twice
  EXPECT_EQ(count(c, "SELECT count(*) FROM a"), 1);
  EXPECT_EQ(count(c, "SELECT count(*) FROM schema_migrations"), 3);
  pqxx::nontransaction tx(c);
  auto row =
      tx.exec("SELECT name, checksum, applied_at IS NOT NULL FROM schema_migrations WHERE version = 1")[0];
  EXPECT_EQ(row[0].as<std::string>(), "create_a");
  EXPECT_EQ(row[1].as<std::string>(), sha256_hex(set[1].sql));
  EXPECT_TRUE(row[2].as<bool>());
}

TEST_F(MigrationsTest, ConcurrentAppliersDoNotDoubleApply) {
  // Migration 2 waits at a gate (an advisory lock the test holds) so that both appliers are certainly inside
  // apply_migrations at once: one stopped at the gate, the other waiting for the migrations lock.
  constexpr int64_t kGateKey = 0x47415445;  // "GATE"
  const std::vector<Migration> set{
      {1, "create_t", "CREATE TABLE t (x int)"},
      {2, "gated_insert",
       "SELECT pg_advisory_xact_lock(" + std::to_string(kGateKey) + "); INSERT INTO t VALUES (1);"},
      {3, "insert_again", "INSERT INTO t VALUES (2)"},
  };
  pqxx::connection gate(conninfo_);
  auto on_gate = [&](const char* sql) {
    pqxx::nontransaction tx(gate);
    tx.exec_params(sql, kGateKey);
  };
  on_gate("SELECT pg_advisory_lock($1::bigint)");  // a session lock: held until unlocked
  std::vector<int> applied[2];
  std::string errors[2];
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&, i] {
      try {
        pqxx::connection c(conninfo_);
        applied[i] = apply_migrations(c, set, kLockKey);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  EXPECT_TRUE(dive::testing::wait_until(
      [&] {
        return count(
                   gate,
                   "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = "
                   "(SELECT oid FROM pg_database WHERE datname = current_database())") == 2;
      },
      10s))
      << "the two appliers never waited at the same time";
  on_gate("SELECT pg_advisory_unlock($1::bigint)");
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors[0], "");
  EXPECT_EQ(errors[1], "");
  std::vector<int> all = applied[0];
  all.insert(all.end(), applied[1].begin(), applied[1].end());
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<int>{1, 2, 3}));  // each applied exactly once, by one of them
  pqxx::connection c(conninfo_);
  EXPECT_EQ(count(c, "SELECT count(*) FROM t"), 2);
  EXPECT_EQ(count(c, "SELECT count(*) FROM schema_migrations"), 3);
}

TEST_F(MigrationsTest, ChangedAppliedMigrationIsAnErrorNamingIt) {
  std::vector<Migration> set{{1, "create_a", "CREATE TABLE a (id int)"}};
  pqxx::connection c(conninfo_);
  apply_migrations(c, set, kLockKey);
  set[0].sql = "CREATE TABLE a (id bigint)";
  set.push_back({2, "create_b", "CREATE TABLE b (id int)"});
  try {
    apply_migrations(c, set, kLockKey);
    FAIL() << "an edited migration must not pass";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("001_create_a"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("changed"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(table_exists(c, "b"));  // checked before anything new runs
  EXPECT_EQ(current_schema_version(c), 1);
  // The advisory lock was released: another session can take it at once.
  pqxx::connection other(conninfo_);
  pqxx::nontransaction tx(other);
  EXPECT_TRUE(tx.exec_params("SELECT pg_try_advisory_lock($1::bigint)", kLockKey)[0][0].as<bool>());
}

TEST_F(MigrationsTest, AnEditOfCommentsOnlyIsAcceptedWhenItNamesTheFormerChecksum) {
  std::vector<Migration> set{{1, "create_a", "-- a table\nCREATE TABLE a (id int)"}};
  pqxx::connection c(conninfo_);
  apply_migrations(c, set, kLockKey);
  const std::string former = migration_checksum(set[0]);
  set[0].sql = "-- a table, documented better\nCREATE TABLE a (id int)";
  EXPECT_THROW(apply_migrations(c, set, kLockKey), std::runtime_error) << "not declared: refused";
  set[0].sql = "-- a table, documented better\n-- former checksum (comments changed only): " + former +
               "\nCREATE TABLE a (id int)";
  EXPECT_EQ(accepted_checksums(set[0]), (std::vector<std::string>{migration_checksum(set[0]), former}));
  set.push_back({2, "create_b", "CREATE TABLE b (id int)"});
  EXPECT_EQ(apply_migrations(c, set, kLockKey), std::vector<int>{2});
  set[0].sql =
      "-- former checksum (comments changed only): " + std::string(64, '0') + "\nCREATE TABLE a (id int)";
  EXPECT_THROW(apply_migrations(c, set, kLockKey), std::runtime_error) << "another checksum named: refused";
}

TEST_F(MigrationsTest, FailingMigrationRollsBackOnlyItself) {
  std::vector<Migration> set{
      {1, "create_a", "CREATE TABLE a (id int)"},
      {2, "half_done", "CREATE TABLE b (id int); INSERT INTO no_such_table VALUES (1);"},
      {3, "create_c", "CREATE TABLE c (id int)"},
  };
  pqxx::connection c(conninfo_);
  try {
    apply_migrations(c, set, kLockKey);
    FAIL() << "migration 2 must fail";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("002_half_done"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("no_such_table"), std::string::npos) << e.what();
  }
  EXPECT_EQ(current_schema_version(c), 1);
  EXPECT_TRUE(table_exists(c, "a"));
  EXPECT_FALSE(table_exists(c, "b"));  // its own transaction rolled back
  EXPECT_FALSE(table_exists(c, "c"));  // nothing after it ran

  set[1].sql = "CREATE TABLE b (id int)";  // fixed before it was ever applied: allowed
  EXPECT_EQ(apply_migrations(c, set, kLockKey), (std::vector<int>{2, 3}));
  EXPECT_EQ(current_schema_version(c), 3);
}

TEST_F(MigrationsTest, RejectsABadSet) {
  pqxx::connection c(conninfo_);
  EXPECT_THROW(apply_migrations(c, {{1, "a", "SELECT 1"}, {1, "b", "SELECT 2"}}, kLockKey),
               std::invalid_argument);
  EXPECT_THROW(apply_migrations(c, {{0, "zero", "SELECT 1"}}, kLockKey), std::invalid_argument);
}

TEST_F(MigrationsTest, EmbeddedInstanceSetAppliesToAFreshDatabase) {
  const auto& set = instance_migrations();
  ASSERT_FALSE(set.empty());
  for (size_t i = 1; i < set.size(); ++i) EXPECT_LT(set[i - 1].version, set[i].version);
  EXPECT_EQ(set.front().version, 1);
  EXPECT_EQ(set.front().name, "service_heartbeat");

  pqxx::connection c(conninfo_);
  EXPECT_EQ(apply_migrations(c, set, kLockKey).size(), set.size());
  EXPECT_TRUE(table_exists(c, "service_heartbeats"));
  EXPECT_EQ(current_schema_version(c), set.back().version);
}

TEST_F(MigrationsTest, EmbeddedOrchestrationSetAppliesToAFreshDatabase) {
  const auto& set = orchestration_migrations();
  for (size_t i = 1; i < set.size(); ++i) EXPECT_LT(set[i - 1].version, set[i].version);
  pqxx::connection c(conninfo_);
  EXPECT_EQ(apply_migrations(c, set, kLockKey).size(), set.size());
  EXPECT_TRUE(apply_migrations(c, set, kLockKey).empty());
  EXPECT_EQ(current_schema_version(c), set.empty() ? 0 : set.back().version);
}
