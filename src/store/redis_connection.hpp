#pragma once
// One hiredis 0.14 connection (internal to the store library): connect with timeout, AUTH, binary-safe
// commands with a reply timeout, and the non-blocking read side the subscriber needs. Errors never carry
// the password.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/redis_client.hpp"

struct redisContext;

namespace dive::store {

// "redis 'name' at host:port", the prefix of every message about this endpoint.
std::string redis_endpoint(const RedisConfig& cfg);

class RedisConnection {
 public:
  // Connects and AUTHs (when a password is set). `on_socket`, when given, is told the socket right after the
  // TCP connect (so that another thread can shut it down to interrupt us). Throws RedisUnavailable.
  explicit RedisConnection(const RedisConfig& cfg, const std::function<void(int)>& on_socket = {});
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends and waits (up to command_timeout) for the reply; error replies are returned, not thrown. I/O
  // failure or timeout: throws RedisUnavailable and the connection is unusable from then on.
  RedisReply command(const std::vector<std::string>& args);
  // Sends without waiting for the reply.
  void send(const std::vector<std::string>& args);
  // Reads whatever the socket holds (call when poll() says readable) and returns the complete replies.
  std::vector<RedisReply> read_available();

  int fd() const;
  bool usable() const { return usable_; }
  // An idle connection must have nothing to read: readable means closed by the server (or out of step).
  bool idle_healthy() const;
  const std::string& endpoint() const { return endpoint_; }

 private:
  [[noreturn]] void fail(const std::string& what);
  std::string endpoint_;
  Millis command_timeout_;
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  std::unique_ptr<redisContext, ContextDeleter> ctx_;
  bool usable_ = true;
};

}  // namespace dive::store
