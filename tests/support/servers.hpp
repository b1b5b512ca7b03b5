#pragma once
// Real servers for tests: a PostgreSQL cluster and a Redis server on free loopback ports, in a
// temporary directory, started by the test and stopped (by pid) when the object goes away.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/fs.hpp"

namespace dive::testing {

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t free_port();

// Polls `pred` every `step` until it is true or `timeout` passes; returns the last result.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(50));

// The opposite: checks that something does NOT happen. Polls `pred` every `step` for the whole `window` (a
// deliberate observation window, not a wait) and returns false at the first poll where it does not hold;
// true when it held throughout.
bool holds_for(const std::function<bool()>& pred, std::chrono::milliseconds window,
               std::chrono::milliseconds step = std::chrono::milliseconds(20));

// Listens on a loopback port for its lifetime: someone else's process holding a port we need.
class PortSquatter {
 public:
  explicit PortSquatter(int port);  // throws when the port cannot be bound
  ~PortSquatter() { release(); }
  PortSquatter(const PortSquatter&) = delete;
  PortSquatter& operator=(const PortSquatter&) = delete;
  void release();

 private:
  int fd_ = -1;
};

class TestPostgres {
 public:
  TestPostgres();  // initdb + start + wait until it accepts connections (throws on failure)
  ~TestPostgres();
  TestPostgres(const TestPostgres&) = delete;
  TestPostgres& operator=(const TestPostgres&) = delete;

  uint16_t port() const { return port_; }
  const std::string& user() const { return user_; }
  const std::string& password() const { return password_; }
  std::string host() const { return "127.0.0.1"; }
  // Creates the database when missing and returns a libpq connection string for it.
  std::string create_database(const std::string& name);
  std::string conninfo(const std::string& db) const;
  pid_t pid() const { return pid_; }
  void stop();       // SIGTERM and wait: the server is down until start()
  void start();      // starts it again on the same port and data
  void kill_hard();  // SIGKILL (crash)

 private:
  std::unique_ptr<TempDir> dir_;
  uint16_t port_ = 0;
  std::string user_ = "dive", password_;
  pid_t pid_ = -1;
};

class TestRedis {
 public:
  explicit TestRedis(bool with_password = true);
  ~TestRedis();
  TestRedis(const TestRedis&) = delete;
  TestRedis& operator=(const TestRedis&) = delete;

  uint16_t port() const { return port_; }
  const std::string& password() const { return password_; }
  pid_t pid() const { return pid_; }
  void stop();
  void start();

 private:
  std::unique_ptr<TempDir> dir_;
  uint16_t port_ = 0;
  std::string password_;
  pid_t pid_ = -1;
};

}  // namespace dive::testing
