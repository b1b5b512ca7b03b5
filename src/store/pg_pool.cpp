#include "store/pg_pool.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <pqxx/nontransaction>
#include <thread>
#include <vector>

#include "common/deadline.hpp"
#include "common/mutex.hpp"
#include "store/error_text.hpp"

namespace dive::store {

namespace {

// Connections above min_size that stay idle this long are closed by the background thread.
constexpr Millis kIdleTrimAfter{5 * 60 * 1000};
// The background thread re-checks its work at least this often.
constexpr Millis kMaintainEvery{1000};

// The password inside a connection string, so that it can be scrubbed from any error text.
// One keyword's value in a connection string ("" when absent or unparsable).
std::string conninfo_value(const std::string& conninfo, std::string_view keyword) {
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(conninfo.c_str(), &err);
  if (err) PQfreemem(err);
  std::string value;
  if (!opts) return value;
  for (PQconninfoOption* o = opts; o->keyword; ++o)
    if (std::string_view(o->keyword) == keyword && o->val) value = o->val;
  PQconninfoFree(opts);
  return value;
}

// libpq's connect_timeout (whole seconds, at least 2 when set); 0: none.
Millis connect_bound(const std::string& conninfo) {
  const std::string v = conninfo_value(conninfo, "connect_timeout");
  int s = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return Millis(0);
    s = s * 10 + (c - '0');
  }
  return s <= 0 ? Millis(0) : Millis(std::max(s, 2) * 1000);
}

// An idle connection whose socket is readable has been told something (mostly: the server closed it).
bool socket_readable(const pqxx::connection& c) {
  int fd = c.sock();
  if (fd < 0) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) != 0;
}

bool validate(pqxx::connection& c) {
  // A server that closed the connection left an error and EOF in the socket: consuming them marks the
  // connection closed without a query (libpqxx 6.4 leaks the PGresult of a query that finds it dead).
  try {
    for (int i = 0; i < 2 && c.is_open() && socket_readable(c); ++i) c.get_notifs();
  } catch (const std::exception&) {
    return false;
  }
  if (!c.is_open()) return false;
  try {
    pqxx::nontransaction tx(c);
    tx.exec("SELECT 1");
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

struct PgPool::Impl {
  struct Idle {
    std::unique_ptr<pqxx::connection> conn;
    SteadyTime since;
    bool suspect = false;  // validate before handing out, whatever its idle time
  };

  Impl(PgPoolConfig c, metrics::Registry* registry, Clock& clk)
      : cfg(std::move(c)),
        clock(clk),
        secret(conninfo_value(cfg.conninfo, "password")),
        connect_timeout(connect_bound(cfg.conninfo)),
        backoff(cfg.reconnect) {
    // The statement timeout travels in the startup packet: no extra round trip (and nothing that could
    // wait on a server that accepted the connection and then stopped answering) after a connect.
    if (cfg.statement_timeout.count() > 0)
      cfg.conninfo += " options='-c statement_timeout=" + std::to_string(cfg.statement_timeout.count()) + "'";
    cfg.min_size = std::max(0, cfg.min_size);
    cfg.max_size = std::max({1, cfg.max_size, cfg.min_size});
    armed.reserve(static_cast<size_t>(cfg.max_size));
    if (!registry) {
      own_registry = std::make_unique<metrics::Registry>();
      registry = own_registry.get();
    }
    const std::vector<std::string> label{cfg.db_type};
    g_active =
        &registry
             ->gauge("dive_v3_db_connections_active", "Database connections currently leased", {"db_type"})
             .labels(label);
    g_idle =
        &registry->gauge("dive_v3_db_connections_idle", "Database connections idle in the pool", {"db_type"})
             .labels(label);
    g_total =
        &registry
             ->gauge("dive_v3_db_connections_total", "Database connections open (active + idle)", {"db_type"})
             .labels(label);
    g_max = &registry
                 ->gauge("dive_v3_db_connections_max", "Database connections the pool may open at most",
                         {"db_type"})
                 .labels(label);
    g_waiting = &registry
                     ->gauge("dive_v3_db_connections_waiting",
                             "Requests waiting for a free database connection (the pool is at its maximum)",
                             {"db_type"})
                     .labels(label);
    g_max->inc(cfg.max_size);
    c_errors = &registry
                    ->counter("dive_v3_db_connection_errors_total",
                              "Failed database connects and connections found broken", {"db_type"})
                    .labels(label);
    c_timeouts = &registry
                      ->counter("dive_v3_db_query_timeouts_total",
                                "Database calls ended by the client deadline (query_timeout) or the "
                                "server's statement_timeout",
                                {"db_type"})
                      .labels(label);
    c_exhausted =
        &registry
             ->counter("dive_v3_db_pool_exhausted_total",
                       "Requests that found no free database connection within acquire_timeout", {"db_type"})
             .labels(label);
  }

  int total_locked() const REQUIRES(mu) { return active + static_cast<int>(idle.size()) + connecting; }

  // Gauges move by deltas, so that several pools with the same db_type add up.
  void publish_locked() REQUIRES(mu) {
    const int a = active, i = static_cast<int>(idle.size());
    g_active->inc(a - pub_active);
    g_idle->inc(i - pub_idle);
    g_total->inc((a + i) - (pub_active + pub_idle));
    g_waiting->inc(waiting - pub_waiting);
    pub_active = a;
    pub_idle = i;
    pub_waiting = waiting;
  }

  void count_error() {
    errors.fetch_add(1, std::memory_order_relaxed);
    c_errors->inc();
  }

  std::string clean(const std::string& text) const { return redact(one_line(text), secret); }

  std::unique_ptr<pqxx::connection> open() const {
    auto c = std::make_unique<pqxx::connection>(cfg.conninfo);
    // libpqxx 6 silently reconnects a broken connection on its next use; the pool decides that instead, so
    // that a lost connection is seen (and counted) and never comes back without its session settings.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    c->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    return c;
  }

  void on_connect_success_locked() REQUIRES(mu) {
    if (down) spdlog::info("database ({}): connection restored", cfg.db_type);
    down = false;
    backoff.reset();
  }

  void on_connect_failure_locked(const std::string& what) REQUIRES(mu) {
    count_error();
    last_error = clean(what);
    Millis delay = backoff.next();
    retry_at = clock.now() + delay;
    if (!down) spdlog::warn("database ({}) unavailable: {} (retrying with backoff)", cfg.db_type, last_error);
    down = true;
    for (auto& i : idle) i.suspect = true;  // they probably went with the server
  }

  // A connection found dead: its siblings are validated before their next use.
  void on_connection_lost_locked() REQUIRES(mu) {
    count_error();
    for (auto& i : idle) i.suspect = true;
  }

  // May a connect be attempted now? Sets `probing` when it claims the single probe of a down database.
  bool may_connect_locked() REQUIRES(mu) {
    if (!down) return true;
    if (probing || clock.now() < retry_at) return false;
    probing = true;
    return true;
  }

  std::string unavailable_text_locked() const REQUIRES(mu) {
    auto wait = std::chrono::duration_cast<Millis>(retry_at - clock.now());
    std::string text = "database (" + cfg.db_type + ") unavailable: " + last_error;
    if (wait.count() > 0) text += " (next connect attempt in " + std::to_string(wait.count()) + " ms)";
    return text;
  }

  // Connects outside the lock, released meanwhile (the caller has counted itself in `connecting`).
  std::unique_ptr<pqxx::connection> connect_unlocked(std::string& error) REQUIRES(mu) {
    std::unique_ptr<pqxx::connection> c;
    {
      MutexUnlock unlocked(mu);
      try {
        c = open();
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    --connecting;
    probing = false;
    if (c)
      on_connect_success_locked();
    else
      on_connect_failure_locked(error);
    cv.notify_all();
    return c;
  }

  void release(std::unique_ptr<pqxx::connection> c, bool broken) noexcept {
    std::unique_ptr<pqxx::connection> doomed;
    {
      MutexLock lk(mu);
      --active;
      const bool alive = !broken && c->is_open();
      if (!broken && !alive) on_connection_lost_locked();
      if (closed || !alive)
        doomed = std::move(c);
      else
        idle.push_back(Idle{std::move(c), clock.now(), false});
      publish_locked();
    }
    // One connection came back: one waiter can use it. The maintainer is woken only when one was lost
    // (it refills to min_size), not on every request.
    cv.notify_one();
    if (doomed) maint_cv.notify_one();
    // `doomed` closes here, outside the lock.
  }

  void maintain() {
    MutexLock lk(mu);
    while (!closed) {
      if (total_locked() < cfg.min_size && may_connect_locked()) {
        ++connecting;
        std::string error;
        auto c = connect_unlocked(error);
        if (c && !closed) {
          idle.push_back(Idle{std::move(c), clock.now(), false});
          publish_locked();
          cv.notify_all();
        } else if (c) {
          lk.unlock();
          c.reset();
          lk.lock();
        }
        continue;
      }
      trim_locked();
      Millis wait = kMaintainEvery;
      if (down && total_locked() < cfg.min_size)
        wait =
            std::clamp(std::chrono::duration_cast<Millis>(retry_at - clock.now()), Millis(1), kMaintainEvery);
      maint_cv.wait_for(mu, wait);
    }
  }

  // ---- The query deadline (query_timeout). A call's connection is "armed" while it runs; the watchdog
  // thread shuts down the socket of one whose deadline passed, so that libpq's blocking read returns at
  // once and the call fails (a stopped or partitioned server would otherwise keep it waiting for ever).
  // Arming and disarming take `mu`, and so does the shutdown: a disarmed connection is never touched.
  // The deadline is the earlier of query_timeout and the deadline of the request this thread serves.
  void arm(pqxx::connection& c) {
    const auto now = clock.now();
    std::optional<SteadyTime> at = RequestDeadline::current();
    if (cfg.query_timeout.count() > 0) at = RequestDeadline::earliest(now + cfg.query_timeout);
    if (!at) return;
    MutexLock lk(mu);
    armed.push_back(Armed{&c, *at, std::chrono::duration_cast<Millis>(*at - now), false});
  }
  // True when the watchdog ended the call; `budget` tells the time it had.
  bool disarm(pqxx::connection& c, Millis* budget = nullptr) {
    MutexLock lk(mu);
    auto it = std::find_if(armed.begin(), armed.end(), [&](const Armed& a) { return a.conn == &c; });
    if (it == armed.end()) return false;
    const bool fired = it->fired;
    if (budget) *budget = it->budget;
    *it = armed.back();  // order does not matter
    armed.pop_back();
    return fired;
  }

  void watch() {
    // A newly armed call is seen within `tick`, well before its deadline.
    const Millis tick = cfg.query_timeout.count() > 0
                            ? std::clamp(cfg.query_timeout / 4, Millis(10), Millis(250))
                            : Millis(100);
    std::vector<Millis> ended;
    MutexLock lk(mu);
    while (!closed) {
      const auto now = clock.now();
      SteadyTime next = now + tick;
      for (auto& a : armed) {
        if (a.fired) continue;
        if (a.deadline <= now) {
          a.fired = true;
          const int fd = a.conn->sock();
          if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
          timeouts.fetch_add(1, std::memory_order_relaxed);
          c_timeouts->inc();
          ended.push_back(a.budget);
        } else {
          next = std::min(next, a.deadline);
        }
      }
      if (!ended.empty()) {
        lk.unlock();
        for (Millis b : ended)
          spdlog::warn("database ({}): a call got no answer within {} ms; its connection is closed",
                       cfg.db_type, b.count());
        ended.clear();
        lk.lock();
        continue;
      }
      watch_cv.wait_for(mu, std::chrono::duration_cast<Millis>(next - now) + Millis(1));
    }
  }

  // Closes connections above min_size that have been idle a long time (oldest first), outside the lock.
  void trim_locked() REQUIRES(mu) {
    std::vector<std::unique_ptr<pqxx::connection>> doomed;
    const auto now = clock.now();
    while (!idle.empty() && total_locked() > cfg.min_size && now - idle.front().since > kIdleTrimAfter) {
      doomed.push_back(std::move(idle.front().conn));
      idle.erase(idle.begin());
    }
    if (doomed.empty()) return;
    publish_locked();
    MutexUnlock unlocked(mu);
    doomed.clear();
  }

  PgPoolConfig cfg;
  Clock& clock;
  const std::string secret;
  const Millis connect_timeout;  // libpq cannot be interrupted while it connects: see acquire()
  std::unique_ptr<metrics::Registry> own_registry;
  metrics::Gauge* g_active = nullptr;
  metrics::Gauge* g_idle = nullptr;
  metrics::Gauge* g_total = nullptr;
  metrics::Gauge* g_max = nullptr;
  metrics::Gauge* g_waiting = nullptr;
  metrics::Counter* c_errors = nullptr;
  metrics::Counter* c_timeouts = nullptr;
  metrics::Counter* c_exhausted = nullptr;

  struct Armed {
    const pqxx::connection* conn;
    SteadyTime deadline;
    Millis budget;  // the time the call was given
    bool fired = false;
  };

  mutable Mutex mu;
  CondVar watch_cv;  // the watchdog (the pool closed)
  // Calls running under a deadline: at most one per connection, so never more than max_size (reserved:
  // arming allocates nothing).
  std::vector<Armed> armed GUARDED_BY(mu);
  CondVar cv;                             // waiters for a connection
  CondVar maint_cv;                       // the maintainer (a connection lost, the pool closed)
  std::vector<Idle> idle GUARDED_BY(mu);  // most recently returned at the back
  int active GUARDED_BY(mu) = 0;
  int connecting GUARDED_BY(mu) = 0;
  int waiting GUARDED_BY(mu) = 0;  // callers of acquire() blocked until a connection is returned
  bool closed GUARDED_BY(mu) = false;
  resilience::Backoff backoff GUARDED_BY(mu);
  bool down GUARDED_BY(mu) = false;
  bool probing GUARDED_BY(mu) = false;
  SteadyTime retry_at GUARDED_BY(mu);
  std::string last_error GUARDED_BY(mu);
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> timeouts{0};
  std::atomic<uint64_t> exhausted{0};
  int pub_active GUARDED_BY(mu) = 0;  // what the gauges were last moved to
  int pub_idle GUARDED_BY(mu) = 0;
  int pub_waiting GUARDED_BY(mu) = 0;

  Mutex join_mu;  // close() joins the threads once
  std::thread maintainer GUARDED_BY(join_mu);
  std::thread watchdog GUARDED_BY(join_mu);  // only with a query_timeout
};

// ---- Lease

PgPool::Lease::Lease(std::shared_ptr<Impl> pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(std::move(pool)), conn_(std::move(conn)) {}

PgPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::move(other.pool_)), conn_(std::move(other.conn_)), broken_(other.broken_) {}

PgPool::Lease& PgPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::move(other.pool_);
    conn_ = std::move(other.conn_);
    broken_ = other.broken_;
  }
  return *this;
}

PgPool::Lease::~Lease() {
  release();
}

void PgPool::Lease::release() noexcept {
  if (conn_ && pool_) pool_->release(std::move(conn_), broken_);
  conn_.reset();
  pool_.reset();
  broken_ = false;
}

pqxx::connection& PgPool::Lease::conn() {
  if (!conn_) throw std::logic_error("PgPool::Lease used after it was moved from");
  return *conn_;
}

// ---- PgPool

PgPool::PgPool(PgPoolConfig cfg, metrics::Registry* registry, Clock& clock)
    : impl_(std::make_shared<Impl>(std::move(cfg), registry, clock)) {
  Impl* impl = impl_.get();
  impl_->maintainer = std::thread([impl] { impl->maintain(); });
  impl_->watchdog = std::thread([impl] { impl->watch(); });
}

PgPool::~PgPool() {
  close();
}

PgPool::Lease PgPool::acquire() {
  Impl& p = *impl_;
  // Within the deadline of the request this thread serves, if any (common/deadline.hpp).
  const Millis wait = RequestDeadline::clamp(p.cfg.acquire_timeout);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  MutexLock lk(p.mu);
  while (true) {
    if (p.closed) throw PgUnavailable("database (" + p.cfg.db_type + ") pool is closed");

    if (!p.idle.empty()) {
      Impl::Idle item = std::move(p.idle.back());
      p.idle.pop_back();
      ++p.active;
      p.publish_locked();
      const bool check = item.suspect || p.clock.now() - item.since > p.cfg.validate_after_idle ||
                         socket_readable(*item.conn);
      if (!check) return Lease(impl_, std::move(item.conn));
      lk.unlock();
      p.arm(*item.conn);
      bool ok = validate(*item.conn);
      ok = !p.disarm(*item.conn) && ok;
      if (ok) return Lease(impl_, std::move(item.conn));
      item.conn.reset();
      lk.lock();
      --p.active;
      p.on_connection_lost_locked();
      p.publish_locked();
      p.cv.notify_all();
      p.maint_cv.notify_one();
      continue;
    }

    if (p.total_locked() < p.cfg.max_size) {
      // A connect runs to its own timeout, which no deadline can shorten: a request that has less time
      // left than that does not start one (another caller, or the maintainer, opens it).
      if (RequestDeadline::current() && p.connect_timeout.count() > 0 &&
          RequestDeadline::clamp(p.connect_timeout) < p.connect_timeout)
        throw PgPoolExhausted("database (" + p.cfg.db_type + "): no free connection, and too little of the " +
                              "request's time left to open one");
      if (!p.may_connect_locked()) throw PgUnavailable(p.unavailable_text_locked());
      ++p.connecting;
      std::string error;
      auto c = p.connect_unlocked(error);
      if (!c) throw PgUnavailable("database (" + p.cfg.db_type + ") unavailable: " + p.last_error);
      if (p.closed) {
        lk.unlock();
        c.reset();
        throw PgUnavailable("database (" + p.cfg.db_type + ") pool is closed");
      }
      ++p.active;
      p.publish_locked();
      return Lease(impl_, std::move(c));
    }

    ++p.waiting;
    p.publish_locked();
    const auto woke = p.cv.wait_until(p.mu, deadline);
    --p.waiting;
    p.publish_locked();
    if (woke == std::cv_status::timeout && !p.closed && p.idle.empty() &&
        p.total_locked() >= p.cfg.max_size) {
      p.exhausted.fetch_add(1, std::memory_order_relaxed);
      p.c_exhausted->inc();
      throw PgPoolExhausted("database (" + p.cfg.db_type + "): no connection free within " +
                            std::to_string(wait.count()) + " ms (all " + std::to_string(p.cfg.max_size) +
                            " in use)");
    }
  }
}

// ---- PgPool::Call

void PgPool::check_request_deadline() const {
  if (RequestDeadline::current() && RequestDeadline::clamp(Millis(1)).count() == 0)
    throw PgUnavailable("database (" + impl_->cfg.db_type + ") not asked: the request's deadline passed");
}

std::optional<resilience::CircuitBreaker::Permit> PgPool::admit() {
  if (!breaker_) return std::nullopt;
  auto permit = breaker_->try_acquire();
  if (!permit)
    throw PgUnavailable("database (" + impl_->cfg.db_type + ") unavailable: circuit breaker '" +
                        breaker_->name() + "' is open (next trial in " +
                        std::to_string(breaker_->snapshot().retry_after.count()) + " ms)");
  return permit;
}

PgPool::Call::Call(PgPool& pool) : pool_(pool), permit_((pool.check_request_deadline(), pool.admit())) {
  try {
    lease_.emplace(pool.acquire());
  } catch (const PgPoolExhausted&) {
    if (permit_) permit_->release_unjudged();  // our capacity, not the database's health
    throw;
  } catch (const std::exception& e) {
    if (permit_) permit_->failure(e.what());
    throw;
  }
  pool.impl_->arm(lease_->conn());
}

PgPool::Call::~Call() {
  disarm();
}

bool PgPool::Call::disarm() {
  if (!disarmed_ && lease_) expired_ = pool_.impl_->disarm(lease_->conn(), &budget_);
  disarmed_ = true;
  return expired_;
}

void PgPool::Call::answered() {
  // A call the watchdog ended may still have "answered" (its caller swallowed the error): it failed.
  if (disarm()) {
    lease_->mark_broken();
    if (permit_) permit_->failure("no answer within the query deadline");
    return;
  }
  if (permit_) permit_->success();
}

PgUnavailable PgPool::Call::lost(const std::exception& e) {
  const bool expired = disarm();
  lease_->mark_broken();
  Impl& p = *pool_.impl_;
  // Ended by the deadline of the request it served, which left it less time than query_timeout: that
  // request ran out of time (it may have waited for a connection first); the database is not judged.
  const bool request_ran_out = expired && (p.cfg.query_timeout.count() <= 0 || budget_ < p.cfg.query_timeout);
  if (!request_ran_out) {
    MutexLock lk(p.mu);
    p.on_connection_lost_locked();
  }
  std::string text = expired ? "database (" + p.cfg.db_type + ") did not answer within " +
                                   std::to_string(budget_.count()) +
                                   (request_ran_out ? " ms (the request's deadline; connection closed)"
                                                    : " ms (query deadline; connection closed)")
                             : "database (" + p.cfg.db_type + ") connection lost: " + p.clean(e.what());
  if (permit_) {
    if (request_ran_out)
      permit_->release_unjudged();
    else
      permit_->failure(text);
  }
  return PgUnavailable(text);
}

PgUnavailable PgPool::Call::too_slow(const std::exception&) {
  disarm();
  Impl& p = *pool_.impl_;
  p.timeouts.fetch_add(1, std::memory_order_relaxed);
  p.c_timeouts->inc();
  std::string text = "database (" + p.cfg.db_type + ") statement cancelled after " +
                     std::to_string(p.cfg.statement_timeout.count()) + " ms (statement_timeout)";
  if (permit_) permit_->failure(text);
  return PgUnavailable(text);
}

void PgPool::Call::in_doubt() {
  const bool expired = disarm();
  if (expired || !lease_->conn().is_open()) {
    lease_->mark_broken();
    if (permit_) permit_->failure("connection lost during commit");
  } else if (permit_) {
    permit_->success();
  }
}

bool PgPool::is_statement_timeout(const pqxx::sql_error& e) {
  return e.sqlstate() == "57014";  // query_canceled: the statement_timeout fired
}

bool PgPool::ping() {
  try {
    with([](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec("SELECT 1");
    });
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

PgPool::Stats PgPool::stats() const {
  MutexLock lk(impl_->mu);
  Stats s;
  s.active = impl_->active;
  s.idle = static_cast<int>(impl_->idle.size());
  s.total = s.active + s.idle;
  s.waiting = impl_->waiting;
  s.max = impl_->cfg.max_size;
  s.errors = impl_->errors.load(std::memory_order_relaxed);
  s.timeouts = impl_->timeouts.load(std::memory_order_relaxed);
  s.exhausted = impl_->exhausted.load(std::memory_order_relaxed);
  return s;
}

void PgPool::close() {
  Impl& p = *impl_;
  std::vector<Impl::Idle> doomed;
  {
    MutexLock lk(p.mu);
    if (!p.closed) p.g_max->dec(p.cfg.max_size);  // a closed pool opens nothing more
    p.closed = true;
    doomed.swap(p.idle);
    p.publish_locked();
  }
  p.cv.notify_all();
  p.maint_cv.notify_all();
  p.watch_cv.notify_all();
  {
    MutexLock jl(p.join_mu);
    if (p.maintainer.joinable()) p.maintainer.join();
    if (p.watchdog.joinable()) p.watchdog.join();
  }
  // `doomed` closes here, outside every lock.
}

}  // namespace dive::store
