#include "store/redis_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <unordered_set>

#include "common/mutex.hpp"
#include "store/error_text.hpp"
#include "store/redis_connection.hpp"

namespace dive::store {

struct RedisClient::Impl {
  Impl(RedisConfig c, metrics::Registry* registry, Clock& clk)
      : cfg(std::move(c)), clock(clk), endpoint(redis_endpoint(cfg)), backoff(cfg.reconnect) {
    cfg.pool_size = std::max(1, cfg.pool_size);
    if (!registry) {
      own_registry = std::make_unique<metrics::Registry>();
      registry = own_registry.get();
    }
    errors = &registry->counter("dive_v3_redis_errors_total", "Failed Redis connects and commands", {"name"})
                  .labels({cfg.name});
    connected_gauge =
        &registry->gauge("dive_v3_redis_connected", "1 while a Redis connection is open", {"name"})
             .labels({cfg.name});
    active_gauge = &registry
                        ->gauge("dive_v3_redis_connections_active",
                                "Redis connections in use by a command right now", {"name"})
                        .labels({cfg.name});
    idle_gauge = &registry
                      ->gauge("dive_v3_redis_connections_idle", "Redis connections open and idle in the pool",
                              {"name"})
                      .labels({cfg.name});
    max_gauge =
        &registry
             ->gauge("dive_v3_redis_connections_max", "Redis connections the pool may open at most", {"name"})
             .labels({cfg.name});
    max_gauge->inc(cfg.pool_size);
  }

  using ConnPtr = std::unique_ptr<RedisConnection>;

  int live_locked() const REQUIRES(mu) { return static_cast<int>(idle.size()) + busy; }
  // The pool gauges move by deltas, so that clients of the same name add up.
  void publish_locked() REQUIRES(mu) {
    connected_gauge->set(live_locked() > 0 ? 1.0 : 0.0);
    const int i = static_cast<int>(idle.size());
    active_gauge->inc(busy - pub_busy);
    idle_gauge->inc(i - pub_idle);
    pub_busy = busy;
    pub_idle = i;
  }

  // Idle connections the server has closed (restart, timeout) are dropped before anyone uses them.
  void prune_locked(std::vector<ConnPtr>& doomed) REQUIRES(mu) {
    for (auto it = idle.begin(); it != idle.end();) {
      if ((*it)->idle_healthy()) {
        ++it;
      } else {
        doomed.push_back(std::move(*it));
        it = idle.erase(it);
      }
    }
  }

  ConnPtr checkout() {
    const auto deadline = std::chrono::steady_clock::now() + cfg.command_timeout;
    std::vector<ConnPtr> doomed;
    MutexLock lk(mu);
    while (true) {
      while (!idle.empty()) {
        ConnPtr c = std::move(idle.back());
        idle.pop_back();
        if (c->idle_healthy()) {
          ++busy;
          publish_locked();
          return c;
        }
        doomed.push_back(std::move(c));
        prune_locked(doomed);  // one was closed by the server (restart?): so were the others, probably
      }
      publish_locked();
      if (live_locked() + connecting < cfg.pool_size) return connect();
      if (cv.wait_until(mu, deadline) == std::cv_status::timeout && idle.empty() &&
          live_locked() + connecting >= cfg.pool_size)
        throw RedisUnavailable(endpoint + ": all " + std::to_string(cfg.pool_size) +
                               " connections busy for " + std::to_string(cfg.command_timeout.count()) +
                               " ms");
    }
  }

  // Opens a connection outside the lock (released meanwhile); fails fast while backing off after a failed
  // connect.
  ConnPtr connect() REQUIRES(mu) {
    if (down) {
      const auto wait = std::chrono::duration_cast<Millis>(retry_at - clock.now());
      if (probing || wait.count() > 0)
        throw RedisUnavailable(last_error + " (next connect attempt in " +
                               std::to_string(std::max<int64_t>(0, wait.count())) + " ms)");
      probing = true;
    }
    ++connecting;
    ConnPtr c;
    std::string error;
    {
      MutexUnlock unlocked(mu);
      try {
        c = std::make_unique<RedisConnection>(cfg);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    --connecting;
    probing = false;
    if (!c) {
      errors->inc();
      last_error = error;
      retry_at = clock.now() + backoff.next();
      if (!down) spdlog::warn("{} (retrying with backoff)", error);
      down = true;
      publish_locked();
      cv.notify_all();
      throw RedisUnavailable(error);
    }
    if (down) spdlog::info("{}: connection restored", endpoint);
    down = false;
    backoff.reset();
    ++busy;
    publish_locked();
    return c;
  }

  void checkin(ConnPtr c, bool failed) {
    std::vector<ConnPtr> doomed;
    {
      MutexLock lk(mu);
      --busy;
      if (failed || !c->usable()) {
        errors->inc();
        doomed.push_back(std::move(c));
        // The others probably went the same way (server restart): check them before their next use.
        prune_locked(doomed);
      } else {
        idle.push_back(std::move(c));
      }
      publish_locked();
    }
    cv.notify_all();
  }

  RedisConfig cfg;
  Clock& clock;
  const std::string endpoint;
  std::unique_ptr<metrics::Registry> own_registry;
  metrics::Counter* errors = nullptr;
  metrics::Gauge* connected_gauge = nullptr;
  metrics::Gauge* active_gauge = nullptr;
  metrics::Gauge* idle_gauge = nullptr;
  metrics::Gauge* max_gauge = nullptr;
  mutable Mutex mu;
  CondVar cv;
  int pub_busy GUARDED_BY(mu) = 0;  // what the gauges were last moved to
  int pub_idle GUARDED_BY(mu) = 0;
  std::vector<ConnPtr> idle GUARDED_BY(mu);
  int busy GUARDED_BY(mu) = 0;
  int connecting GUARDED_BY(mu) = 0;
  resilience::Backoff backoff GUARDED_BY(mu);
  bool down GUARDED_BY(mu) = false;
  bool probing GUARDED_BY(mu) = false;
  SteadyTime retry_at GUARDED_BY(mu);
  std::string last_error GUARDED_BY(mu);
};

RedisClient::RedisClient(RedisConfig cfg, metrics::Registry* registry, Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(cfg), registry, clock)) {}

RedisClient::~RedisClient() {
  MutexLock lk(impl_->mu);
  impl_->idle.clear();
  impl_->busy = 0;
  impl_->publish_locked();
  impl_->max_gauge->dec(impl_->cfg.pool_size);
}

RedisReply RedisClient::command(const std::vector<std::string>& args) {
  if (args.empty()) throw std::invalid_argument("redis: empty command");
  auto conn = impl_->checkout();
  RedisReply reply;
  try {
    reply = conn->command(args);
  } catch (...) {
    impl_->checkin(std::move(conn), true);
    throw;
  }
  impl_->checkin(std::move(conn), false);
  if (reply.type == RedisReply::Type::Error) {
    impl_->errors->inc();
    // NOAUTH: the server wants a password we do not have; that is a configuration problem, not a bad command.
    if (reply.str.rfind("NOAUTH", 0) == 0)
      throw RedisUnavailable(impl_->endpoint + ": " + one_line(reply.str) +
                             " (no or wrong password configured)");
    throw RedisError(impl_->endpoint + ": " + args[0] + ": " + one_line(reply.str));
  }
  return reply;
}

bool RedisClient::ping() {
  try {
    auto r = command({"PING"});
    return r.type == RedisReply::Type::Status && r.str == "PONG";
  } catch (const std::exception&) {
    return false;
  }
}

std::optional<std::string> RedisClient::get(const std::string& key) {
  auto r = command({"GET", key});
  if (r.is_nil()) return std::nullopt;
  if (r.type != RedisReply::Type::String) throw RedisError(impl_->endpoint + ": GET: unexpected reply type");
  return r.str;
}

void RedisClient::set(const std::string& key, const std::string& value, std::optional<Millis> ttl) {
  if (ttl) {
    if (ttl->count() <= 0) throw std::invalid_argument("redis SET: ttl must be positive");
    command({"SET", key, value, "PX", std::to_string(ttl->count())});
  } else {
    command({"SET", key, value});
  }
}

bool RedisClient::del(const std::string& key) {
  return command({"DEL", key}).integer > 0;
}

int64_t RedisClient::publish(const std::string& channel, const std::string& message) {
  return command({"PUBLISH", channel, message}).integer;
}

std::vector<std::string> RedisClient::scan_keys(const std::string& pattern, size_t count_hint) {
  std::vector<std::string> keys;
  std::unordered_set<std::string> seen;  // SCAN may return a key more than once
  std::string cursor = "0";
  const std::string count = std::to_string(std::max<size_t>(1, count_hint));
  do {
    auto r = command({"SCAN", cursor, "MATCH", pattern, "COUNT", count});
    if (r.type != RedisReply::Type::Array || r.elements.size() != 2 ||
        r.elements[1].type != RedisReply::Type::Array)
      throw RedisError(impl_->endpoint + ": SCAN: unexpected reply");
    cursor = r.elements[0].str;
    for (auto& k : r.elements[1].elements)
      if (seen.insert(k.str).second) keys.push_back(std::move(k.str));
  } while (cursor != "0");
  return keys;
}

bool RedisClient::connected() const {
  std::vector<Impl::ConnPtr> doomed;
  MutexLock lk(impl_->mu);
  impl_->prune_locked(doomed);
  impl_->publish_locked();
  return impl_->live_locked() > 0;
}

}  // namespace dive::store
