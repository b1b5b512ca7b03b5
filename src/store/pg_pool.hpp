#pragma once
// A pool of PostgreSQL connections (libpqxx 6.4): min/max size, acquire timeout, validation of idle
// connections, reconnect with backoff, metrics per db_type (active, idle, total, max, waiting, errors). It
// never blocks on a down database: the min_size connections are opened by a background thread, and while the
// database is known to be down (a connect failed and the backoff delay has not passed) acquire() fails at
// once with PgUnavailable.
#include <cstdint>
#include <memory>
#include <pqxx/connection>
#include <pqxx/except>
#include <stdexcept>
#include <string>
#include <utility>

#include "common/clock.hpp"
#include "metrics/registry.hpp"
#include "resilience/retry.hpp"

namespace dive::store {

// No working connection can be had: the database is down, the pool is exhausted, or the pool is closed.
class PgUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PgPoolConfig {
  std::string conninfo;              // libpq connection string (see pg_conninfo in local_postgres.hpp)
  std::string db_type = "instance";  // metrics label: "instance", "orchestration", ...
  int min_size = 1;
  int max_size = 8;
  Millis acquire_timeout{2000};
  Millis validate_after_idle{30000};  // idle longer than this: validated (SELECT 1) before it is handed out
  Millis statement_timeout{10000};    // SET statement_timeout on every new connection (0: none)
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

  // Throws PgUnavailable: pool closed, timed out waiting for a free connection, connect failed, or the
  // database is known down and the reconnect backoff has not expired (fails fast, no waiting).
  Lease acquire();

  // acquire() + fn(conn). A lost connection (pqxx::broken_connection, or any libpq failure after which the
  // connection is no longer open) marks the lease broken and is rethrown as PgUnavailable; other exceptions
  // propagate unchanged (a pqxx::in_doubt_error too, so the caller knows a commit may have happened).
  template <class F>
  auto with(F&& fn) -> decltype(fn(std::declval<pqxx::connection&>()));

  bool ping();  // SELECT 1 through the pool; false on any failure

  struct Stats {
    int active = 0, idle = 0, total = 0;
    int waiting = 0;  // acquire() calls blocked because every connection is leased
    int max = 0;
    uint64_t errors = 0;
  };
  Stats stats() const;

  void close();  // closes every idle connection (leased ones when returned); further acquire() throws

 private:
  // Records a lost connection (metrics) and builds the PgUnavailable that with() throws.
  PgUnavailable connection_lost(const std::exception& e);
  std::shared_ptr<Impl> impl_;
};

template <class F>
auto PgPool::with(F&& fn) -> decltype(fn(std::declval<pqxx::connection&>())) {
  Lease lease = acquire();
  try {
    return fn(lease.conn());
  } catch (const pqxx::broken_connection& e) {
    lease.mark_broken();
    throw connection_lost(e);
  } catch (const pqxx::in_doubt_error&) {
    if (!lease.conn().is_open()) lease.mark_broken();
    throw;
  } catch (const pqxx::failure& e) {
    if (lease.conn().is_open()) throw;
    lease.mark_broken();
    throw connection_lost(e);
  }
}

}  // namespace dive::store
