#pragma once
// Redis through hiredis 0.14 (synchronous API, no TLS: loopback or a private network with requirepass).
// RedisClient: a small pool of connections for commands, reconnecting with backoff. RedisSubscriber: pub/sub
// on its own thread and connection, resubscribing after every disconnect.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "metrics/registry.hpp"
#include "resilience/retry.hpp"

namespace dive::store {

class RedisError : public std::runtime_error {  // Redis answered with an error
 public:
  using std::runtime_error::runtime_error;
};
class RedisUnavailable : public RedisError {  // cannot reach / auth failed / timed out
 public:
  using RedisError::RedisError;
};

struct RedisConfig {
  std::string name = "redis";  // metrics/log label ("redis", "blacklist")
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
  std::string user;      // an ACL user (AUTH user password); empty: the default user
  std::string password;  // AUTH when non-empty
  Millis connect_timeout{1000};
  Millis command_timeout{1000};
  int pool_size = 4;
  resilience::BackoffPolicy reconnect{Millis(100), 2.0, Millis(5000), Millis(100)};
};

struct RedisReply {
  enum class Type { Nil, String, Integer, Array, Status, Error } type = Type::Nil;
  std::string str;
  int64_t integer = 0;
  std::vector<RedisReply> elements;
  bool is_nil() const { return type == Type::Nil; }
};

// Thread-safe: one pool serves every thread (one mutex over the pool; commands run outside it, each on a
// connection of its own). Connections are opened on first use (construction never blocks), at most
// pool_size at once; a call waits up to command_timeout for a free one. Metrics:
// dive_v3_redis_errors_total{name} (failed connects and commands that failed, error replies included),
// dive_v3_redis_connected{name} (1 while at least one connection is open) and the pool's
// dive_v3_redis_connections_{active,idle,max}{name}.
class RedisClient {
 public:
  RedisClient(RedisConfig cfg, metrics::Registry* registry = &metrics::Registry::global(),
              Clock& clock = Clock::system());
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Binary safe. Error reply -> RedisError. Cannot connect, auth refused, I/O failure or timeout ->
  // RedisUnavailable (the connection is dropped; later calls reconnect, failing fast while the backoff after
  // a failed connect runs).
  RedisReply command(const std::vector<std::string>& args);
  bool ping();
  std::optional<std::string> get(const std::string& key);
  void set(const std::string& key, const std::string& value, std::optional<Millis> ttl = std::nullopt);
  bool del(const std::string& key);
  int64_t publish(const std::string& channel, const std::string& message);
  std::vector<std::string> scan_keys(const std::string& pattern,
                                     size_t count_hint = 500);  // SCAN, never KEYS
  bool connected() const;                                       // at least one live connection right now

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A subscriber on its own thread and connection. After any disconnect it reconnects (with backoff), re-AUTHs,
// re-SUBSCRIBEs to every channel and then calls on_subscribed() — so that a consumer can resynchronise
// whatever it may have missed. Callbacks run on the subscriber thread; an exception from one is logged and
// ignored. Thread-safe: start(), stop() and the accessors may be called from any thread.
class RedisSubscriber {
 public:
  using MessageFn = std::function<void(const std::string& channel, const std::string& message)>;
  RedisSubscriber(RedisConfig cfg, std::vector<std::string> channels, MessageFn on_message,
                  std::function<void()> on_subscribed = {});
  ~RedisSubscriber();  // stop()
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  void start();
  void stop();  // prompt (< 1 s), joins the thread
  bool connected() const;
  uint64_t reconnects() const;  // successful subscriptions after the first

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dive::store
