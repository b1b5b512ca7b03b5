// The pool's bounded waits against a real PostgreSQL behind a fault proxy: a server that stops answering
// ends a call at the query deadline, a slow statement at the statement timeout, and the breaker set on the
// pool opens on those failures (and not on an exhausted pool or a caller's own SQL error), refuses at once
// while open, and closes again once the database answers.
#include <gtest/gtest.h>

#include <pqxx/nontransaction>
#include <thread>

#include "fault_proxy.hpp"
#include "metrics/registry.hpp"
#include "resilience/circuit_breaker.hpp"
#include "servers.hpp"
#include "store/local_postgres.hpp"
#include "store/pg_pool.hpp"
#include "store_test_support.hpp"

using namespace dive;
using namespace dive::store;
using namespace std::chrono_literals;
using dive::testing::FaultProxy;
using dive::testing::TestPostgres;
using dive::testing::wait_until;

namespace {

void select1(PgPool& pool) {
  pool.with([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec("SELECT 1");
  });
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const PgUnavailable& e) {
    return e.what();
  }
  return "";
}

}  // namespace

class PgPoolBounds : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pg_ = new TestPostgres(); }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    pg_->create_database("bounds");
    proxy_ = std::make_unique<FaultProxy>("127.0.0.1", pg_->port());
    proxy_->start();
  }
  // A pool that reaches the database through the proxy.
  std::unique_ptr<PgPool> pool(Millis query_timeout, Millis statement_timeout = 0ms, int max_size = 2) {
    PgPoolConfig c;
    c.conninfo = pg_conninfo("127.0.0.1", proxy_->port(), "bounds", pg_->user(), pg_->password(), 2);
    c.min_size = 0;
    c.max_size = max_size;
    c.acquire_timeout = 300ms;
    c.query_timeout = query_timeout;
    c.statement_timeout = statement_timeout;
    c.reconnect = resilience::BackoffPolicy{50ms, 2.0, 200ms, 10ms};
    return std::make_unique<PgPool>(c, &registry_);
  }
  resilience::CircuitBreaker& breaker(int threshold = 2, Millis open = 300ms) {
    breaker_ = std::make_unique<resilience::CircuitBreaker>(
        "database", resilience::BreakerConfig{threshold, open, 1, 1}, Clock::system(), &registry_);
    return *breaker_;
  }

  static TestPostgres* pg_;
  metrics::Registry registry_;
  std::unique_ptr<FaultProxy> proxy_;
  std::unique_ptr<resilience::CircuitBreaker> breaker_;
};
TestPostgres* PgPoolBounds::pg_ = nullptr;

TEST_F(PgPoolBounds, AServerThatStopsAnsweringEndsTheCallAtTheQueryDeadline) {
  auto p = pool(400ms);
  select1(*p);  // a connection is open and idle
  proxy_->blackhole();
  const auto t0 = std::chrono::steady_clock::now();
  const std::string err = error_of([&] { select1(*p); });
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_NE(err.find("did not answer within 400 ms"), std::string::npos) << err;
  // The deliberate deadline: ended at it (the slack covers a loaded machine), not when the server returns.
  EXPECT_LT(took, 400ms + 2s);
  EXPECT_EQ(p->stats().timeouts, 1u);
  EXPECT_EQ(p->stats().active, 0) << "the ended connection is not handed back";
  proxy_->pass();
  EXPECT_NO_THROW(select1(*p)) << "a new connection works once the path heals";
}

TEST_F(PgPoolBounds, ASlowStatementIsCancelledByTheServerAndTheConnectionStays) {
  auto p = pool(5000ms, 150ms);
  auto& b = breaker(3);
  p->set_breaker(&b);
  const std::string err = error_of([&] {
    p->with([](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec("SELECT pg_sleep(3)");
    });
  });
  EXPECT_NE(err.find("statement cancelled after 150 ms"), std::string::npos) << err;
  EXPECT_EQ(p->stats().timeouts, 1u);
  EXPECT_EQ(b.snapshot().consecutive_failures, 1) << "too slow is a failure of the database";
  EXPECT_EQ(p->stats().idle, 1) << "the connection is still good";
  EXPECT_NO_THROW(select1(*p));
  EXPECT_EQ(b.snapshot().consecutive_failures, 0);
}

TEST_F(PgPoolBounds, TheBreakerOpensOnDeadlinesRefusesAtOnceAndClosesWhenTheDatabaseAnswers) {
  auto p = pool(200ms);
  auto& b = breaker(2, 300ms);
  p->set_breaker(&b);
  select1(*p);
  proxy_->blackhole();
  EXPECT_FALSE(error_of([&] { select1(*p); }).empty());
  EXPECT_FALSE(error_of([&] { select1(*p); }).empty());
  EXPECT_EQ(b.state(), resilience::BreakerState::Open);
  // Open: refused without touching the pool or waiting for any deadline.
  const uint64_t timeouts = p->stats().timeouts;
  const std::string refused = error_of([&] { select1(*p); });
  EXPECT_NE(refused.find("circuit breaker 'database' is open"), std::string::npos) << refused;
  EXPECT_EQ(p->stats().timeouts, timeouts);
  proxy_->pass();
  // After the open period a trial goes through and, the database answering, closes the breaker.
  EXPECT_TRUE(wait_until(
      [&] {
        try {
          select1(*p);
        } catch (const PgUnavailable&) {
        }
        return b.state() == resilience::BreakerState::Closed;
      },
      10s, 50ms))
      << b.snapshot().to_json().dump();
}

TEST_F(PgPoolBounds, AnExhaustedPoolOrTheCallersOwnSqlErrorDoesNotCountAgainstTheDatabase) {
  auto p = pool(5000ms, 0ms, 1);
  auto& b = breaker(1);
  p->set_breaker(&b);
  // The caller's statement is wrong: the database answered.
  EXPECT_THROW(p->with([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    tx.exec("SELEC 1");
  }),
               pqxx::sql_error);
  EXPECT_EQ(b.state(), resilience::BreakerState::Closed);
  // The only connection is held: the next caller waits acquire_timeout, then gives up — our capacity.
  auto lease = p->acquire();
  EXPECT_THROW(select1(*p), PgPoolExhausted);
  EXPECT_EQ(p->stats().exhausted, 1u);
  EXPECT_EQ(b.state(), resilience::BreakerState::Closed);
  EXPECT_EQ(b.snapshot().consecutive_failures, 0);
}

TEST_F(PgPoolBounds, AValidationOfAnIdleConnectionIsBoundedToo) {
  PgPoolConfig c;
  c.conninfo = pg_conninfo("127.0.0.1", proxy_->port(), "bounds", pg_->user(), pg_->password(), 2);
  c.min_size = 0;
  c.max_size = 1;
  c.acquire_timeout = 300ms;
  c.query_timeout = 300ms;
  c.validate_after_idle = 0ms;  // every reuse validates first
  c.reconnect = resilience::BackoffPolicy{50ms, 2.0, 200ms, 10ms};
  PgPool p(c, &registry_);
  select1(p);
  proxy_->blackhole();
  // The validation (SELECT 1 on the idle connection) hangs until the watchdog ends it; the pool then
  // tries a new connection, which the black hole lets hang until connect_timeout (2 s).
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_THROW(select1(p), PgUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 300ms + 2s + 2s);
  EXPECT_GE(p.stats().timeouts, 1u);
}
