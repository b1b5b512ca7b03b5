#include "store/pg_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>
#include <thread>
#include <vector>

#include "servers.hpp"
#include "store/local_postgres.hpp"
#include "store_test_support.hpp"

using namespace dive;
using namespace dive::store;
using namespace std::chrono_literals;
using dive::testing::TestPostgres;
using dive::testing::wait_until;

namespace {

PgPoolConfig config(const std::string& conninfo) {
  PgPoolConfig c;
  c.conninfo = conninfo;
  c.min_size = 0;
  c.max_size = 4;
  c.acquire_timeout = 1000ms;
  c.reconnect = resilience::BackoffPolicy{50ms, 2.0, 400ms, 20ms};
  return c;
}

int backend_pid(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  return tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
}

// Terminates the given backends from another session and waits until they are gone.
void terminate_backends(const std::string& conninfo, const std::set<int>& pids) {
  pqxx::connection admin(conninfo);
  pqxx::nontransaction tx(admin);
  for (int pid : pids) tx.exec_params("SELECT pg_terminate_backend($1)", pid);
  ASSERT_TRUE(wait_until(
      [&] {
        for (int pid : pids)
          if (tx.exec_params("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)[0][0].as<int>() > 0)
            return false;
        return true;
      },
      5s));
}

}  // namespace

class PgPoolTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = new TestPostgres();
    conninfo_ = pg_->create_database("pool");
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  static TestPostgres* pg_;
  static std::string conninfo_;
  metrics::Registry registry_;
};
TestPostgres* PgPoolTest::pg_ = nullptr;
std::string PgPoolTest::conninfo_;

TEST_F(PgPoolTest, OpensMinSizeInTheBackground) {
  auto cfg = config(conninfo_);
  cfg.min_size = 2;
  PgPool pool(cfg, &registry_);
  ASSERT_TRUE(wait_until([&] { return pool.stats().idle == 2; }, 5s));
  auto s = pool.stats();
  EXPECT_EQ(s.total, 2);
  EXPECT_EQ(s.active, 0);
  EXPECT_EQ(s.errors, 0u);
}

TEST_F(PgPoolTest, AcquireTimesOutWhenExhaustedAndWaitsForAReturn) {
  auto cfg = config(conninfo_);
  cfg.max_size = 2;
  cfg.acquire_timeout = 300ms;
  PgPool pool(cfg, &registry_);
  auto a = pool.acquire();
  auto b = pool.acquire();
  EXPECT_EQ(pool.stats().active, 2);
  EXPECT_EQ(pool.stats().total, 2);
  try {
    pool.acquire();
    FAIL() << "acquire on an exhausted pool must throw";
  } catch (const PgUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("no connection free"), std::string::npos) << e.what();
  }

  // A waiting acquire gets the connection another thread gives back.
  auto cfg2 = config(conninfo_);
  cfg2.max_size = 1;
  cfg2.acquire_timeout = 5000ms;
  PgPool pool2(cfg2, &registry_);
  auto held = std::make_unique<PgPool::Lease>(pool2.acquire());
  const int pid = backend_pid(held->conn());
  std::atomic<int> got{0};
  std::thread waiter([&] { got = pool2.with([](pqxx::connection& c) { return backend_pid(c); }); });
  EXPECT_TRUE(wait_until([&] { return pool2.stats().waiting == 1; }, 5s)) << "the waiter never blocked";
  EXPECT_EQ(got.load(), 0);  // still waiting
  held.reset();
  waiter.join();
  EXPECT_EQ(got.load(), pid);
}

TEST_F(PgPoolTest, LeaseIsReturnedOnDestructionAndMoves) {
  PgPool pool(config(conninfo_), &registry_);
  int pid = 0;
  {
    auto lease = pool.acquire();
    pid = backend_pid(lease.conn());
    EXPECT_EQ(pool.stats().active, 1);
    PgPool::Lease moved = std::move(lease);  // the moved-from lease returns nothing
    EXPECT_EQ(backend_pid(*moved.operator->()), pid);
    EXPECT_THROW(lease.conn(), std::logic_error);
  }
  auto s = pool.stats();
  EXPECT_EQ(s.active, 0);
  EXPECT_EQ(s.idle, 1);
  EXPECT_EQ(s.total, 1);
  auto again = pool.acquire();
  EXPECT_EQ(backend_pid(again.conn()), pid);  // the same connection, reused
}

TEST_F(PgPoolTest, MarkBrokenClosesTheConnection) {
  PgPool pool(config(conninfo_), &registry_);
  int pid = 0;
  {
    auto lease = pool.acquire();
    pid = backend_pid(lease.conn());
    lease.mark_broken();
  }
  EXPECT_EQ(pool.stats().total, 0);
  auto lease = pool.acquire();
  EXPECT_NE(backend_pid(lease.conn()), pid);
  pqxx::connection admin(conninfo_);
  pqxx::nontransaction tx(admin);
  EXPECT_TRUE(wait_until(
      [&] {
        return tx.exec_params("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid)[0][0].as<int>() ==
               0;
      },
      5s))
      << "the broken connection must be closed, not kept";
}

TEST_F(PgPoolTest, IdleConnectionsKilledByTheServerAreValidatedAway) {
  FakeClock clock;
  auto cfg = config(conninfo_);
  cfg.validate_after_idle = 50ms;
  PgPool pool(cfg, &registry_, clock);
  std::set<int> pids;
  {
    auto a = pool.acquire();
    auto b = pool.acquire();
    pids = {backend_pid(a.conn()), backend_pid(b.conn())};
  }
  ASSERT_EQ(pool.stats().idle, 2);
  terminate_backends(conninfo_, pids);
  clock.advance(100ms);  // past validate_after_idle

  const int pid = pool.with([](pqxx::connection& c) { return backend_pid(c); });
  EXPECT_EQ(pids.count(pid), 0u) << "a killed connection was handed out";
  auto s = pool.stats();
  EXPECT_EQ(s.errors, 2u);  // both dead ones found and dropped
  EXPECT_EQ(s.total, 1);
}

TEST_F(PgPoolTest, HealthyConnectionIsValidatedOnlyAfterValidateAfterIdle) {
  FakeClock clock;
  auto cfg = config(conninfo_);
  cfg.validate_after_idle = 30000ms;
  PgPool pool(cfg, &registry_, clock);
  pqxx::connection admin(conninfo_);
  auto last_query = [&](int pid) {
    pqxx::nontransaction tx(admin);
    return tx.exec_params("SELECT query FROM pg_stat_activity WHERE pid = $1", pid)[0][0].as<std::string>();
  };
  const int pid = pool.with([](pqxx::connection& c) { return backend_pid(c); });
  ASSERT_EQ(last_query(pid), "SELECT pg_backend_pid()");
  clock.advance(29s);
  { auto lease = pool.acquire(); }
  EXPECT_EQ(last_query(pid), "SELECT pg_backend_pid()");  // handed out as is
  clock.advance(31s);
  { auto lease = pool.acquire(); }
  EXPECT_EQ(last_query(pid), "SELECT 1");  // validated first
  EXPECT_EQ(pool.stats().total, 1);
  EXPECT_EQ(pool.stats().errors, 0u);
}

TEST_F(PgPoolTest, WithTurnsALostConnectionIntoPgUnavailable) {
  PgPool pool(config(conninfo_), &registry_);
  EXPECT_THROW(pool.with([&](pqxx::connection& c) {
    terminate_backends(conninfo_, {backend_pid(c)});
    pqxx::nontransaction tx(c);
    tx.exec("SELECT 1");
  }),
               PgUnavailable);
  auto s = pool.stats();
  EXPECT_EQ(s.total, 0);  // marked broken and closed
  EXPECT_EQ(s.errors, 1u);
  EXPECT_TRUE(pool.ping());
}

TEST_F(PgPoolTest, WithLetsOtherErrorsThroughAndKeepsTheConnection) {
  PgPool pool(config(conninfo_), &registry_);
  EXPECT_THROW(pool.with([](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec("SELECT * FROM no_such_table");
  }),
               pqxx::sql_error);
  EXPECT_THROW(pool.with([](pqxx::connection&) -> int { throw std::logic_error("mine"); }), std::logic_error);
  auto s = pool.stats();
  EXPECT_EQ(s.idle, 1);
  EXPECT_EQ(s.errors, 0u);
  EXPECT_EQ(pool.with([](pqxx::connection& c) {
    pqxx::work tx(c);
    return tx.exec("SELECT 41 + 1")[0][0].as<int>();
  }),
            42);
}

TEST_F(PgPoolTest, StatementTimeoutIsSetOnEveryConnection) {
  auto cfg = config(conninfo_);
  cfg.statement_timeout = 200ms;
  PgPool pool(cfg, &registry_);
  EXPECT_EQ(pool.with([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec("SHOW statement_timeout")[0][0].as<std::string>();
  }),
            "200ms");
  EXPECT_THROW(pool.with([](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec("SELECT pg_sleep(5)");
  }),
               PgUnavailable);  // canceled by the server: too slow, reported as unavailable (the
                                // connection stays: no error counted, see below)
  EXPECT_TRUE(pool.ping());
  EXPECT_EQ(pool.stats().errors, 0u);

  cfg.statement_timeout = 0ms;
  PgPool none(cfg, &registry_);
  EXPECT_EQ(none.with([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec("SHOW statement_timeout")[0][0].as<std::string>();
  }),
            "0");
}

TEST_F(PgPoolTest, ExportsTheFourMetricsWithDbType) {
  auto cfg = config(conninfo_);
  cfg.db_type = "orchestration";
  PgPool pool(cfg, &registry_);
  auto a = pool.acquire();
  { auto b = pool.acquire(); }
  const std::string text = registry_.expose();
  EXPECT_NE(text.find("dive_v3_db_connections_active{db_type=\"orchestration\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("dive_v3_db_connections_idle{db_type=\"orchestration\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("dive_v3_db_connections_total{db_type=\"orchestration\"} 2\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("dive_v3_db_connection_errors_total{db_type=\"orchestration\"} 0\n"), std::string::npos)
      << text;
}

TEST_F(PgPoolTest, ExportsItsMaximumAndTheRequestsWaitingForAConnection) {
  auto cfg = config(conninfo_);
  cfg.db_type = "waiters";
  cfg.max_size = 1;
  cfg.acquire_timeout = 10000ms;
  auto pool = std::make_unique<PgPool>(cfg, &registry_);
  auto gauge = [&](const std::string& name) {
    const std::string text = registry_.expose();
    const std::string key = name + "{db_type=\"waiters\"} ";
    auto at = text.find(key);
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + key.size()));
  };
  EXPECT_EQ(gauge("dive_v3_db_connections_max"), 1);
  EXPECT_EQ(gauge("dive_v3_db_connections_waiting"), 0);
  auto held = std::make_unique<PgPool::Lease>(pool->acquire());
  std::vector<std::thread> waiters;
  for (int i = 0; i < 2; ++i) waiters.emplace_back([&] { pool->with([](pqxx::connection&) { return 0; }); });
  ASSERT_TRUE(wait_until([&] { return pool->stats().waiting == 2; }, 5s)) << pool->stats().waiting;
  EXPECT_EQ(gauge("dive_v3_db_connections_waiting"), 2);
  EXPECT_EQ(pool->stats().max, 1);
  held.reset();  // one connection serves both waiters in turn
  for (auto& t : waiters) t.join();
  EXPECT_EQ(pool->stats().waiting, 0);
  EXPECT_EQ(gauge("dive_v3_db_connections_waiting"), 0);
  // Pools of one db_type add up; a closed pool no longer counts.
  PgPool second(cfg, &registry_);
  EXPECT_EQ(gauge("dive_v3_db_connections_max"), 2);
  pool.reset();
  EXPECT_EQ(gauge("dive_v3_db_connections_max"), 1);
}

TEST_F(PgPoolTest, CloseRefusesFurtherAcquiresAndClosesReturnedLeases) {
  auto cfg = config(conninfo_);
  cfg.min_size = 1;
  PgPool pool(cfg, &registry_);
  auto lease = pool.acquire();
  pool.close();
  EXPECT_THROW(pool.acquire(), PgUnavailable);
  EXPECT_FALSE(pool.ping());
  { auto gone = std::move(lease); }
  EXPECT_EQ(pool.stats().total, 0);
  EXPECT_NE(registry_.expose().find("dive_v3_db_connections_total{db_type=\"instance\"} 0\n"),
            std::string::npos);
}

TEST_F(PgPoolTest, ALeaseMayOutliveItsPool) {
  auto pool = std::make_unique<PgPool>(config(conninfo_), &registry_);
  auto lease = pool->acquire();
  pool.reset();
  EXPECT_GT(backend_pid(lease.conn()), 0);
}

TEST_F(PgPoolTest, ManyThreadsShareFewConnections) {
  auto cfg = config(conninfo_);
  cfg.max_size = 3;
  cfg.acquire_timeout = 5000ms;
  PgPool pool(cfg, &registry_);
  std::atomic<int> sum{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 30; ++i)
        sum += pool.with([](pqxx::connection& c) {
          pqxx::nontransaction tx(c);
          return tx.exec("SELECT 1")[0][0].as<int>();
        });
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(sum.load(), 180);
  auto s = pool.stats();
  EXPECT_EQ(s.active, 0);
  EXPECT_LE(s.total, 3);
  EXPECT_EQ(s.errors, 0u);
}

TEST_F(PgPoolTest, WrongPasswordFailsFastWithoutLeakingIt) {
  const std::string secret = "Wr0ng-Pa55word-xyz";
  auto cfg = config(pg_conninfo("127.0.0.1", pg_->port(), "pool", pg_->user(), secret));
  cfg.acquire_timeout = 5000ms;
  PgPool pool(cfg, &registry_);
  try {
    pool.acquire();
    FAIL() << "connect with a wrong password must fail";
  } catch (const PgUnavailable& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("password authentication failed"), std::string::npos) << what;
    EXPECT_EQ(what.find(secret), std::string::npos) << what;
  }
  EXPECT_GE(pool.stats().errors, 1u);
}

// A server of its own: these tests stop and start it.
class PgPoolOutageTest : public ::testing::Test {
 protected:
  TestPostgres pg_;
  metrics::Registry registry_;
};

TEST_F(PgPoolOutageTest, NeverBlocksOnADownDatabaseAndRecoversByItself) {
  const std::string conninfo = pg_.create_database("outage");
  auto cfg = config(conninfo);
  cfg.min_size = 2;
  cfg.acquire_timeout = 5000ms;
  store::test::fast_stop(pg_);

  PgPool pool(cfg, &registry_);  // constructing on a down database does not block or throw
  EXPECT_THROW(pool.acquire(), PgUnavailable);
  EXPECT_FALSE(pool.ping());
  // While backing off, further attempts fail at once rather than waiting for acquire_timeout.
  EXPECT_LT(store::test::elapsed_ms([&] { EXPECT_THROW(pool.acquire(), PgUnavailable); }), 1000);
  EXPECT_GE(pool.stats().errors, 1u);
  EXPECT_EQ(registry_.expose().find("dive_v3_db_connection_errors_total{db_type=\"instance\"} 0\n"),
            std::string::npos);

  pg_.start();
  // No call needed: the background thread reconnects up to min_size.
  EXPECT_TRUE(wait_until([&] { return pool.stats().idle == 2; }, 10s));
  EXPECT_TRUE(pool.ping());
}

TEST_F(PgPoolOutageTest, StoppedDatabaseFailsFastAndComesBack) {
  const std::string conninfo = pg_.create_database("outage");
  auto cfg = config(conninfo);
  cfg.min_size = 1;
  cfg.acquire_timeout = 5000ms;
  PgPool pool(cfg, &registry_);
  ASSERT_TRUE(wait_until([&] { return pool.stats().idle == 1; }, 5s));
  ASSERT_TRUE(pool.ping());

  store::test::fast_stop(pg_);
  EXPECT_FALSE(pool.ping());
  for (int i = 0; i < 3; ++i)
    EXPECT_LT(store::test::elapsed_ms([&] {
                try {
                  pool.acquire();
                  ADD_FAILURE() << "acquire on a stopped database must throw";
                } catch (const PgUnavailable& e) {
                  EXPECT_NE(std::string(e.what()).find("unavailable"), std::string::npos) << e.what();
                }
              }),
              1000);
  const uint64_t errors = pool.stats().errors;
  EXPECT_GE(errors, 1u);
  EXPECT_EQ(pool.stats().total, 0);

  pg_.start();
  EXPECT_TRUE(wait_until([&] { return pool.ping(); }, 10s));
  EXPECT_EQ(pool.with([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec("SELECT 7")[0][0].as<int>();
  }),
            7);
}

TEST(PgPoolNoServer, ConstructionDoesNotBlockAndAcquireFailsFast) {
  metrics::Registry registry;
  auto cfg = config(pg_conninfo("127.0.0.1", dive::testing::free_port(), "x", "dive", "hunter2-secret"));
  cfg.min_size = 3;
  PgPool pool(cfg, &registry);
  try {
    pool.acquire();
    FAIL() << "nothing listens there";
  } catch (const PgUnavailable& e) {
    EXPECT_EQ(std::string(e.what()).find("hunter2-secret"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(pool.ping());
  EXPECT_EQ(pool.stats().total, 0);
}
