#pragma once
// A pool of PostgreSQL connections (libpqxx 6.4): min/max size, acquire timeout, validation of idle
// connections, reconnect with backoff, metrics per db_type (active, idle, total, max, waiting, errors). It
// never blocks on a down database: the min_size connections are opened by a background thread, and while the
// database is known to be down (a connect failed and the backoff delay has not passed) acquire() fails at
// once with PgUnavailable.
//
// Every wait is bounded (docs/RESILIENCE.md): a connect by connect_timeout (in the connection string), a
// free connection by acquire_timeout, a statement by the server's statement_timeout, and a whole with() call
// by query_timeout on the client side — a watchdog thread shuts down the socket of a call that outlives it,
// which is what ends a call to a server that no longer answers at all (stopped, hung, partitioned). With a
// breaker set, with() runs behind it: an open breaker fails at once, and a lost connection, a passed
// deadline or a statement timeout counts as a failure of the database.
//
// Thread-safe: every member of PgPool may be called from any thread at any time (one mutex
// guards the pool's state; two background threads, the maintainer and the watchdog, take it too). A Lease is
// owned by one thread at a time; set_breaker() is called once, before the pool is shared.
#include <cstdint>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <pqxx/except>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "common/clock.hpp"
#include "metrics/registry.hpp"
#include "resilience/circuit_breaker.hpp"
#include "resilience/retry.hpp"

namespace dive::store {

// No working connection can be had: the database is down, hung or too slow, its breaker is open, the pool
// is exhausted, or the pool is closed.
class PgUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// Every connection was in use for the whole acquire_timeout (this side's capacity, not the database's
// health: not counted by the breaker).
class PgPoolExhausted : public PgUnavailable {
 public:
  using PgUnavailable::PgUnavailable;
};

struct PgPoolConfig {
  std::string conninfo;              // libpq connection string (see pg_conninfo in local_postgres.hpp)
  std::string db_type = "instance";  // metrics label: "instance", "orchestration", ...
  int min_size = 1;
  int max_size = 8;
  Millis acquire_timeout{2000};
  Millis validate_after_idle{30000};  // idle longer than this: validated (SELECT 1) before it is handed out
  Millis statement_timeout{10000};    // the server's statement_timeout of every connection (0: none)
  // Client-side deadline of one with() call and of a validation (0: none); the deadline of the request the
  // calling thread serves (common/deadline.hpp) shortens it, and acquire_timeout too.
  Millis query_timeout{0};
  resilience::BackoffPolicy reconnect{Millis(200), 2.0, Millis(10000), Millis(100)};
};

class PgPool {
  struct Impl;

 public:
  PgPool(PgPoolConfig cfg, metrics::Registry* registry = &metrics::Registry::global(),
         Clock& clock = Clock::system());
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // RAII: gives the connection back to the pool (or closes it when broken). A lease may outlive its pool:
  // the connection is then simply closed.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    pqxx::connection& conn();
    pqxx::connection* operator->() { return &conn(); }
    void mark_broken() { broken_ = true; }  // the connection is closed instead of returned

   private:
    friend class PgPool;
    Lease(std::shared_ptr<Impl> pool, std::unique_ptr<pqxx::connection> conn);
    void release() noexcept;
    std::shared_ptr<Impl> pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool broken_ = false;
  };

  // Throws PgUnavailable: pool closed, connect failed, or the database is known down and the reconnect
  // backoff has not expired (fails fast, no waiting); PgPoolExhausted: no connection free within
  // acquire_timeout. Not behind the breaker and without the query deadline: prefer with().
  Lease acquire();

  // The breaker with() runs behind (not owned; must outlive the pool's callers). Call before serving.
  void set_breaker(resilience::CircuitBreaker* breaker) { breaker_ = breaker; }

  // acquire() + fn(conn), behind the breaker and under query_timeout. A lost connection
  // (pqxx::broken_connection, or any libpq failure after which the connection is no longer open), a passed
  // query_timeout or a statement_timeout is rethrown as PgUnavailable (the first two mark the lease broken);
  // an open breaker throws PgUnavailable without waiting; other exceptions propagate unchanged (a
  // pqxx::in_doubt_error too, so the caller knows a commit may have happened).
  template <class F>
  auto with(F&& fn) -> decltype(fn(std::declval<pqxx::connection&>()));

  bool ping();  // SELECT 1 through the pool; false on any failure

  struct Stats {
    int active = 0, idle = 0, total = 0;
    int waiting = 0;  // acquire() calls blocked because every connection is leased
    int max = 0;
    uint64_t errors = 0;
    uint64_t timeouts = 0;   // calls ended by query_timeout or statement_timeout
    uint64_t exhausted = 0;  // acquire() calls that found no free connection within acquire_timeout
  };
  Stats stats() const;

  void close();  // closes every idle connection (leased ones when returned); further acquire() throws

 private:
  // One with() call: the breaker's permit (taken first: an open breaker refuses before any wait), the lease,
  // and the query deadline armed on its connection. Every way out judges the permit exactly once.
  class Call {
   public:
    explicit Call(PgPool& pool);  // throws PgUnavailable (breaker open, no connection)
    ~Call();                      // disarms the deadline; an unjudged permit counts as a failure
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;
    pqxx::connection& conn() { return lease_->conn(); }
    void answered();                                  // the database answered: a success
    PgUnavailable lost(const std::exception& e);      // connection lost or deadline passed: a failure
    PgUnavailable too_slow(const std::exception& e);  // statement_timeout: a failure; the connection stays
    void in_doubt();  // a commit of unknown outcome: a failure when the connection went with it

   private:
    bool disarm();  // true when the watchdog ended this call
    PgPool& pool_;
    std::optional<resilience::CircuitBreaker::Permit> permit_;
    std::optional<Lease> lease_;
    bool disarmed_ = false, expired_ = false;
    Millis budget_{0};
  };
  std::optional<resilience::CircuitBreaker::Permit> admit();  // PgUnavailable when the breaker is open
  void check_request_deadline() const;  // PgUnavailable when this thread's request deadline passed
  static bool is_statement_timeout(const pqxx::sql_error& e);

  std::shared_ptr<Impl> impl_;
  resilience::CircuitBreaker* breaker_ = nullptr;
};

template <class F>
auto PgPool::with(F&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
  Call call(*this);
  try {
    if constexpr (std::is_void_v<decltype(fn(call.conn()))>) {
      fn(call.conn());
      call.answered();
    } else {
      auto result = fn(call.conn());
      call.answered();
      return result;
    }
  } catch (const pqxx::broken_connection& e) {
    throw call.lost(e);
  } catch (const pqxx::in_doubt_error&) {
    call.in_doubt();
    throw;
  } catch (const pqxx::sql_error& e) {
    if (is_statement_timeout(e)) throw call.too_slow(e);
    if (!call.conn().is_open()) throw call.lost(e);
    call.answered();  // the database answered with an error of the caller's statement
    throw;
  } catch (const pqxx::failure& e) {
    if (!call.conn().is_open()) throw call.lost(e);
    call.answered();
    throw;
  } catch (...) {
    call.answered();  // the caller's own error (parsing a row, a check of its own)
    throw;
  }
}

}  // namespace dive::store
