#include "servers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <stdexcept>
#include <thread>

#include "common/process.hpp"
#include "common/random.hpp"
#include "store/local_postgres.hpp"
#include "store/local_redis.hpp"

namespace dive::testing {

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    throw std::runtime_error("bind failed");
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

PortSquatter::PortSquatter(int port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 4) != 0) {
    release();
    throw std::runtime_error("cannot hold port " + std::to_string(port));
  }
}

void PortSquatter::release() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return pred();
    std::this_thread::sleep_for(step);
  }
}

bool holds_for(const std::function<bool()>& pred, std::chrono::milliseconds window,
               std::chrono::milliseconds step) {
  auto end = std::chrono::steady_clock::now() + window;
  while (true) {
    if (!pred()) return false;
    if (std::chrono::steady_clock::now() >= end) return true;
    std::this_thread::sleep_for(step);
  }
}

namespace {
std::unique_ptr<TempDir> make_dir(const char* prefix) {
  auto d = std::make_unique<TempDir>(prefix);
  ::chmod(d->path().c_str(), 0755);  // the postgres user must be able to enter it when we are root
  return d;
}
}  // namespace

TestPostgres::TestPostgres()
    : dir_(make_dir("dive-test-pg")), port_(free_port()), password_(secure_token(18)) {
  store::PgClusterSpec spec{dir_->path() / "data", port_, user_, password_, /*fast_unsafe=*/true};
  store::pg_init_cluster(spec, store::postgres_run_as(), std::chrono::seconds(60));
  start();
}

void TestPostgres::start() {
  store::PgClusterSpec spec{dir_->path() / "data", port_, user_, password_, true};
  auto who = store::postgres_run_as();
  SpawnOptions o;
  o.argv = store::pg_server_argv(spec);
  o.stdout_path = (dir_->path() / "postgres.log").string();
  o.uid = who.uid;
  o.gid = who.gid;
  o.parent_death_signal = SIGTERM;
  if (who.uid) {
    // The log file is created before the privilege drop by the child; make the dir writable.
    ::chown(dir_->path().c_str(), *who.uid, who.gid.value_or(static_cast<gid_t>(-1)));
  }
  pid_ = spawn(o);
  bool ok = wait_until(
      [&] { return store::pg_accepts("127.0.0.1", port_, user_, password_, std::chrono::seconds(1)); },
      std::chrono::seconds(30), std::chrono::milliseconds(100));
  if (!ok)
    throw std::runtime_error("test PostgreSQL did not start: " + read_file(dir_->path() / "postgres.log"));
}

void TestPostgres::stop() {
  // SIGINT is PostgreSQL's fast shutdown: it does not wait for connected clients (SIGTERM would).
  if (pid_ > 0) terminate_pid(pid_, std::chrono::seconds(15), SIGINT);
  pid_ = -1;
}

void TestPostgres::kill_hard() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    wait_child(pid_, std::chrono::seconds(5));
  }
  pid_ = -1;
}

TestPostgres::~TestPostgres() {
  stop();
}

std::string TestPostgres::conninfo(const std::string& db) const {
  return store::pg_conninfo("127.0.0.1", port_, db, user_, password_);
}

std::string TestPostgres::create_database(const std::string& name) {
  store::pg_ensure_databases("127.0.0.1", port_, user_, password_, {name});
  return conninfo(name);
}

TestRedis::TestRedis(bool with_password)
    : dir_(make_dir("dive-test-redis")),
      port_(free_port()),
      password_(with_password ? secure_token(18) : "") {
  start();
}

void TestRedis::start() {
  store::RedisServerSpec spec;
  spec.dir = dir_->path();
  spec.port = port_;
  spec.password = password_;
  spec.append_only = true;
  auto conf = store::redis_write_config(spec);
  if (password_.empty()) {
    // requirepass "" still means no password; keep the generated file as is.
  }
  SpawnOptions o;
  o.argv = store::redis_server_argv(conf);
  o.stdout_path = (dir_->path() / "redis.log").string();
  o.parent_death_signal = SIGTERM;
  pid_ = spawn(o);
  bool ok = wait_until(
      [&] {
        int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = htons(port_);
        bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
        ::close(fd);
        return up;
      },
      std::chrono::seconds(15));
  if (!ok) throw std::runtime_error("test Redis did not start: " + read_file(dir_->path() / "redis.log"));
}

void TestRedis::stop() {
  if (pid_ > 0) terminate_pid(pid_, std::chrono::seconds(10));
  pid_ = -1;
}

TestRedis::~TestRedis() {
  stop();
}

}  // namespace dive::testing
