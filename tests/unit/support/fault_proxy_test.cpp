// The fault proxy in front of a tiny echo server: each mode, the counters, switching back to pass, stop.
// Every wait is bounded (poll deadlines, wait_until); only "nothing arrives" checks wait out a window.
#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "servers.hpp"

namespace {

using namespace std::chrono_literals;
using dive::testing::FaultProxy;
using dive::testing::wait_until;
using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

// A blocking client socket connected to 127.0.0.1:port, or -1 with errno set.
Fd connect_to(uint16_t port) {
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto a = loopback(port);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) fd.reset();
  return fd;
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<size_t>(w);
  }
  return true;
}

struct ReadResult {
  std::string data;
  bool eof = false;  // orderly close (FIN)
  int error = 0;     // errno of a failed recv (ECONNRESET...)
  bool timed_out = false;
  bool ended() const { return eof || error != 0; }
};

// Reads until `want` bytes arrived (0: until the connection ends), the connection ends, or `timeout`.
ReadResult read_some(int fd, size_t want, std::chrono::milliseconds timeout) {
  ReadResult r;
  const auto deadline = Clock::now() + timeout;
  while (want == 0 || r.data.size() < want) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      r.timed_out = true;
      break;
    }
    char buf[16384];
    size_t cap = want == 0 ? sizeof buf : std::min(sizeof buf, want - r.data.size());
    ssize_t got = ::recv(fd, buf, cap, MSG_DONTWAIT);
    if (got > 0) {
      r.data.append(buf, static_cast<size_t>(got));
    } else if (got == 0) {
      r.eof = true;
      break;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      r.error = errno;
      break;
    }
  }
  return r;
}

ReadResult read_to_end(int fd, std::chrono::milliseconds timeout = 5s) {
  return read_some(fd, 0, timeout);
}

bool round_trip(int fd, const std::string& msg, std::chrono::milliseconds timeout = 5s) {
  if (!send_all(fd, msg)) return false;
  auto r = read_some(fd, msg.size(), timeout);
  return r.data == msg;
}

// A client-side read timeout: SO_RCVTIMEO, then one recv that must give up with EAGAIN.
bool read_times_out(int fd, std::chrono::milliseconds window) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(window.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((window.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char c;
  ssize_t r = ::recv(fd, &c, 1, 0);
  int err = errno;
  tv = timeval{};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return r < 0 && (err == EAGAIN || err == EWOULDBLOCK);
}

// Open as far as this end can tell: no FIN, no RST, no pending error.
bool looks_open(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) != 0) return false;  // nothing readable, no hang-up, no error
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err == 0;
}

// Echoes every byte back; one thread per connection; all threads watch one eventfd for the end.
class EchoServer {
 public:
  EchoServer() {
    listen_ = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    auto a = loopback(0);
    if (::bind(listen_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_.get(), 64) != 0)
      throw std::runtime_error("echo server: cannot listen");
    socklen_t len = sizeof a;
    ::getsockname(listen_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    stop_ = Fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    thread_ = std::thread([this] { run(); });
  }
  ~EchoServer() {
    uint64_t one = 1;
    if (::write(stop_.get(), &one, sizeof one) < 0) std::abort();  // never drained: wakes every thread
    thread_.join();
    std::lock_guard lk(mu_);
    for (auto& t : conns_) t.join();
  }
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  void run() {
    for (;;) {
      pollfd p[2] = {{listen_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
      if (::poll(p, 2, -1) < 0 && errno != EINTR) return;
      if (p[1].revents) return;
      if (!(p[0].revents & POLLIN)) continue;
      int fd = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0) continue;
      ++accepted_;
      std::lock_guard lk(mu_);
      conns_.emplace_back([this, fd] { echo(fd); });
    }
  }

  // Waits for `events` on fd; false when the server stops first.
  bool wait_for(int fd, short events) {
    pollfd p[2] = {{fd, events, 0}, {stop_.get(), POLLIN, 0}};
    while (::poll(p, 2, -1) < 0)
      if (errno != EINTR) return false;
    return p[1].revents == 0;
  }

  void echo(int raw) {
    Fd fd(raw);
    char buf[16384];
    while (wait_for(fd.get(), POLLIN)) {
      ssize_t r = ::recv(fd.get(), buf, sizeof buf, 0);
      if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (r <= 0) return;
      size_t off = 0;
      while (off < static_cast<size_t>(r)) {
        ssize_t w = ::send(fd.get(), buf + off, static_cast<size_t>(r) - off, MSG_NOSIGNAL);
        if (w > 0) {
          off += static_cast<size_t>(w);
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
          if (!wait_for(fd.get(), POLLOUT)) return;
        } else {
          return;
        }
      }
    }
  }

  Fd listen_, stop_;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::list<std::thread> conns_;
  std::thread thread_;
};

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

class FaultProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy.start();
    ASSERT_NE(proxy.port(), 0);
  }
  Fd client() {
    Fd fd = connect_to(proxy.port());
    EXPECT_GE(fd.get(), 0) << "connect to the proxy: " << std::strerror(errno);
    return fd;
  }
  // A new connection through the proxy answers.
  void expect_new_connection_works() {
    Fd c = client();
    EXPECT_TRUE(round_trip(c.get(), "fresh connection"));
  }

  EchoServer echo;
  FaultProxy proxy{"127.0.0.1", echo.port()};
};

TEST(FaultProxyHosts, OnlyLoopbackAddresses) {
  EXPECT_THROW(FaultProxy("10.0.0.1", 5432), std::invalid_argument);
  EXPECT_THROW(FaultProxy("192.168.1.20", 5432), std::invalid_argument);
  EXPECT_THROW(FaultProxy("8.8.8.8", 53), std::invalid_argument);
  EXPECT_THROW(FaultProxy("db.example.com", 5432), std::invalid_argument);
  EXPECT_THROW(FaultProxy("::1", 5432), std::invalid_argument);
  EXPECT_THROW(FaultProxy("128.0.0.1", 5432), std::invalid_argument);
  EXPECT_THROW(FaultProxy("127.0.0.1", 5432, "0.0.0.0"), std::invalid_argument);
  EXPECT_THROW(FaultProxy("127.0.0.1", 5432, "10.1.2.3"), std::invalid_argument);
  EXPECT_THROW(FaultProxy("127.0.0.1", 0), std::invalid_argument);
  EXPECT_NO_THROW(FaultProxy("127.0.0.1", 5432));
  EXPECT_NO_THROW(FaultProxy("127.10.20.30", 5432, "127.0.0.2"));
  EXPECT_NO_THROW(FaultProxy("localhost", 5432, "localhost"));
}

TEST_F(FaultProxyTest, PassForwardsBothWaysAndCounts) {
  Fd c = client();
  ASSERT_TRUE(round_trip(c.get(), "hello"));
  EXPECT_EQ(proxy.connections_accepted(), 1u);
  EXPECT_EQ(proxy.active_connections(), 1u);
  EXPECT_EQ(echo.accepted(), 1);
  EXPECT_TRUE(wait_until([&] { return proxy.bytes_forwarded() == 10; }, 5s)) << proxy.bytes_forwarded();

  // A megabyte each way, written while it is being read back: nothing lost, nothing reordered.
  const std::string big = pattern(1 << 20);
  std::thread writer([&] { EXPECT_TRUE(send_all(c.get(), big)); });
  auto r = read_some(c.get(), big.size(), 20s);
  writer.join();
  EXPECT_TRUE(r.data == big) << "got " << r.data.size() << " bytes";

  c.reset();
  EXPECT_TRUE(wait_until([&] { return proxy.active_connections() == 0; }, 5s));
  EXPECT_EQ(proxy.connections_accepted(), 1u);
}

TEST_F(FaultProxyTest, HalfCloseIsForwarded) {
  Fd c = client();
  ASSERT_TRUE(send_all(c.get(), "last words"));
  ::shutdown(c.get(), SHUT_WR);  // FIN towards the echo server, which answers and then closes
  auto r = read_to_end(c.get());
  EXPECT_EQ(r.data, "last words");
  EXPECT_TRUE(r.eof);
}

TEST_F(FaultProxyTest, LatencyDelaysEachDirection) {
  Fd c = client();
  ASSERT_TRUE(round_trip(c.get(), "warm"));
  proxy.latency(150ms);
  auto t0 = Clock::now();
  ASSERT_TRUE(round_trip(c.get(), "ping"));
  auto rtt = Clock::now() - t0;
  EXPECT_GE(rtt, 300ms) << "both directions are held 150 ms";

  proxy.latency(50ms, 50ms);  // jitter only adds
  Fd c2 = client();
  t0 = Clock::now();
  ASSERT_TRUE(round_trip(c2.get(), "jitter"));
  EXPECT_GE(Clock::now() - t0, 100ms);

  proxy.pass();
  expect_new_connection_works();
}

TEST_F(FaultProxyTest, BandwidthCapsThroughput) {
  proxy.bandwidth(40'000);
  Fd c = client();
  const std::string payload = pattern(20'000);
  auto t0 = Clock::now();
  ASSERT_TRUE(send_all(c.get(), payload));
  auto r = read_some(c.get(), payload.size(), 20s);
  auto took = Clock::now() - t0;
  EXPECT_TRUE(r.data == payload) << "got " << r.data.size() << " bytes";
  EXPECT_GE(took, 400ms) << "20 kB at 40 kB/s take about 0.5 s";

  proxy.pass();
  expect_new_connection_works();
}

TEST_F(FaultProxyTest, BlackholeAnswersNothing) {
  Fd before = client();
  ASSERT_TRUE(round_trip(before.get(), "hello"));
  proxy.blackhole();

  Fd c = client();  // the kernel still completes the handshake
  ASSERT_TRUE(wait_until([&] { return proxy.connections_accepted() == 2; }, 5s));
  ASSERT_TRUE(send_all(c.get(), "anyone there?"));
  EXPECT_TRUE(read_times_out(c.get(), 300ms));
  EXPECT_EQ(echo.accepted(), 1) << "a black-holed connection never reaches upstream";

  ASSERT_TRUE(send_all(before.get(), "and you?"));  // existing connections fall silent too
  EXPECT_TRUE(read_times_out(before.get(), 300ms));
  EXPECT_EQ(proxy.bytes_forwarded(), 10u);

  proxy.pass();
  expect_new_connection_works();
  EXPECT_TRUE(read_times_out(c.get(), 100ms)) << "a black-holed connection stays so";
}

TEST_F(FaultProxyTest, ResetNewResetsNewConnectionsOnly) {
  Fd before = client();
  ASSERT_TRUE(round_trip(before.get(), "hello"));
  proxy.reset_new();

  Fd c = connect_to(proxy.port());  // may already fail, or be reset right after
  if (c.get() >= 0) {
    auto r = read_to_end(c.get());
    EXPECT_TRUE(r.error == ECONNRESET || r.eof) << "error " << r.error << ", timed out " << r.timed_out;
    EXPECT_TRUE(r.data.empty());
  }
  EXPECT_TRUE(wait_until([&] { return proxy.connections_accepted() == 2; }, 5s));
  EXPECT_EQ(echo.accepted(), 1);
  EXPECT_TRUE(round_trip(before.get(), "still here")) << "existing connections are spared";

  proxy.pass();
  expect_new_connection_works();
}

TEST_F(FaultProxyTest, ResetAllKillsExistingConnections) {
  Fd a = client(), b = client();
  ASSERT_TRUE(round_trip(a.get(), "one"));
  ASSERT_TRUE(round_trip(b.get(), "two"));
  ASSERT_EQ(proxy.active_connections(), 2u);

  proxy.reset_all();
  EXPECT_EQ(proxy.active_connections(), 0u) << "reset_all returns once they are all closed";
  for (int fd : {a.get(), b.get()}) {
    auto r = read_to_end(fd);
    EXPECT_EQ(r.error, ECONNRESET) << "eof " << r.eof << ", timed out " << r.timed_out;
  }
  Fd c = connect_to(proxy.port());  // new ones are reset as well
  if (c.get() >= 0) {
    EXPECT_TRUE(read_to_end(c.get()).ended());
  }

  proxy.pass();
  expect_new_connection_works();
}

TEST_F(FaultProxyTest, CloseAfterBytes) {
  proxy.close_after(40);
  Fd c = client();
  const std::string payload = pattern(100);
  ASSERT_TRUE(send_all(c.get(), payload));
  auto r = read_to_end(c.get());
  EXPECT_EQ(r.data, payload.substr(0, 40));
  EXPECT_TRUE(r.eof) << "closed with a FIN; error " << r.error << ", timed out " << r.timed_out;
  EXPECT_TRUE(wait_until([&] { return proxy.active_connections() == 0; }, 5s));

  // An existing connection gets its own budget from the moment the mode is set.
  proxy.pass();
  Fd d = client();
  ASSERT_TRUE(round_trip(d.get(), pattern(64)));
  proxy.close_after(10);
  ASSERT_TRUE(send_all(d.get(), pattern(30)));
  r = read_to_end(d.get());
  EXPECT_EQ(r.data, pattern(30).substr(0, 10));
  EXPECT_TRUE(r.eof);

  proxy.pass();
  expect_new_connection_works();
}

TEST_F(FaultProxyTest, HalfOpenHoldsEverythingAndKeepsSocketsOpen) {
  Fd c = client();
  ASSERT_TRUE(round_trip(c.get(), "hello"));
  proxy.half_open();

  ASSERT_TRUE(send_all(c.get(), "request"));
  EXPECT_TRUE(read_times_out(c.get(), 300ms)) << "no answer";
  EXPECT_TRUE(looks_open(c.get())) << "no FIN, no RST";
  EXPECT_EQ(proxy.active_connections(), 1u);

  Fd n = client();  // accepted but held: not connected upstream
  ASSERT_TRUE(wait_until([&] { return proxy.connections_accepted() == 2; }, 5s));
  ASSERT_TRUE(send_all(n.get(), "new request"));
  EXPECT_TRUE(read_times_out(n.get(), 200ms));
  EXPECT_TRUE(looks_open(n.get()));
  EXPECT_EQ(echo.accepted(), 1);

  // The partition heals: what waited is delivered, and new connections work.
  proxy.pass();
  EXPECT_EQ(read_some(c.get(), 7, 5s).data, "request");
  EXPECT_EQ(read_some(n.get(), 11, 5s).data, "new request");
  expect_new_connection_works();
}

TEST_F(FaultProxyTest, UpstreamDownResetsClients) {
  FaultProxy nowhere("127.0.0.1", dive::testing::free_port());  // nothing listens there
  nowhere.start();
  Fd c = connect_to(nowhere.port());
  ASSERT_GE(c.get(), 0);
  auto r = read_to_end(c.get());
  EXPECT_TRUE(r.ended());
  EXPECT_TRUE(r.data.empty());
}

TEST_F(FaultProxyTest, StopClosesEverythingAndStartListensAgain) {
  Fd c = client();
  ASSERT_TRUE(round_trip(c.get(), "hello"));
  Fd held = client();
  proxy.half_open();
  const uint16_t port = proxy.port();

  proxy.stop();
  EXPECT_EQ(proxy.active_connections(), 0u);
  EXPECT_TRUE(read_to_end(c.get()).ended());
  EXPECT_TRUE(read_to_end(held.get()).ended());
  EXPECT_LT(connect_to(port).get(), 0) << "nothing listens after stop()";

  proxy.pass();
  proxy.start();
  EXPECT_EQ(proxy.port(), port);
  expect_new_connection_works();
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST_F(FaultProxyTest, DestructorStopsWithConnectionsInEveryState) {
  const size_t fds_before = open_fds();
  Fd a, b, c;
  {
    FaultProxy p("127.0.0.1", echo.port());
    p.start();
    a = connect_to(p.port());
    ASSERT_TRUE(round_trip(a.get(), "x"));
    p.latency(10s);
    b = connect_to(p.port());
    ASSERT_TRUE(send_all(b.get(), "slow"));
    p.half_open();
    c = connect_to(p.port());
    ASSERT_TRUE(wait_until([&] { return p.connections_accepted() == 3; }, 5s));
  }
  for (int fd : {a.get(), b.get(), c.get()}) EXPECT_TRUE(read_to_end(fd).ended());
  // Every socket and eventfd of the proxy is closed (the echo server closes its side as the EOFs arrive).
  EXPECT_TRUE(wait_until([&] { return open_fds() == fds_before + 3; }, 5s))
      << open_fds() << " open, " << fds_before << " + 3 expected";
}

}  // namespace
