#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <random>
#include <stdexcept>
#include <vector>

namespace dive::testing {

namespace {

using FpClock = std::chrono::steady_clock;
constexpr size_t kFpReadSize = 16 * 1024;
constexpr size_t kFpQueueCap = 256 * 1024;  // per direction: past it, the source is not read
constexpr int kFpSlicesPerSecond = 20;      // bandwidth(): bytes go out in slices of 1/20 s

bool fp_loopback_address(const std::string& host, in_addr& out) {
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (::inet_pton(AF_INET, h.c_str(), &out) != 1) return false;
  return (ntohl(out.s_addr) >> 24) == 127;
}

in_addr fp_require_loopback(const std::string& host, const char* what) {
  in_addr a{};
  if (!fp_loopback_address(host, a))
    throw std::invalid_argument(std::string("FaultProxy: ") + what + " host '" + host +
                                "' is not a loopback address (127.0.0.0/8)");
  return a;
}

void fp_close(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// FIN, then close.
void fp_close_gracefully(int& fd) {
  if (fd < 0) return;
  ::shutdown(fd, SHUT_WR);
  fp_close(fd);
}

// RST: SO_LINGER with a zero timeout makes close() abort the connection.
void fp_reset(int& fd) {
  if (fd < 0) return;
  linger l{};
  l.l_onoff = 1;
  l.l_linger = 0;
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  fp_close(fd);
}

void fp_wake(int efd) {
  if (efd < 0) return;
  uint64_t one = 1;
  if (::write(efd, &one, sizeof one) < 0) {
    // EAGAIN: the counter is already non-zero, the thread will wake anyway.
  }
}

void fp_drain(int efd) {
  uint64_t v = 0;
  while (::read(efd, &v, sizeof v) > 0) {
  }
}

int fp_poll(pollfd* fds, nfds_t n, int timeout_ms) {
  int r;
  do {
    r = ::poll(fds, n, timeout_ms);
  } while (r < 0 && errno == EINTR);
  return r;
}

int fp_timeout_ms(FpClock::time_point now, FpClock::time_point until) {
  if (until <= now) return 0;
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(until - now).count();
  return static_cast<int>(std::min<long long>((us + 999) / 1000, 60'000));  // rounded up: never early
}

}  // namespace

struct FaultProxy::Conn {
  int client = -1;
  int upstream = -1;
  int wake = -1;                 // eventfd: mode change, reset_all() or stop()
  bool reset_requested = false;  // guarded by FaultProxy::mu_
  uint64_t seen_generation = 0;  // the mode the thread works under; guarded by FaultProxy::mu_
  bool discarding = false;       // black-holed for good; set by the listener, then the thread's
  std::atomic<bool> finished{false};
  std::thread thread;

  ~Conn() {
    fp_close(client);
    fp_close(upstream);
    fp_close(wake);
  }
};

FaultProxy::FaultProxy(std::string upstream_host, uint16_t upstream_port, std::string listen_host,
                       uint16_t listen_port)
    : upstream_host_(std::move(upstream_host)),
      listen_host_(std::move(listen_host)),
      upstream_port_(upstream_port),
      requested_port_(listen_port) {
  fp_require_loopback(upstream_host_, "upstream");
  fp_require_loopback(listen_host_, "listen");
  if (upstream_port_ == 0) throw std::invalid_argument("FaultProxy: upstream port 0");
}

FaultProxy::~FaultProxy() {
  stop();
}

void FaultProxy::start() {
  if (listener_.joinable()) throw std::logic_error("FaultProxy::start: already running");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr = fp_require_loopback(listen_host_, "listen");
  a.sin_port = htons(port_.load() != 0 ? port_.load() : requested_port_);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("FaultProxy: socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 128) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error("FaultProxy: cannot listen on " + listen_host_ + ":" +
                             std::to_string(ntohs(a.sin_port)) + ": " + std::strerror(err));
  }
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) {
    ::close(fd);
    throw std::runtime_error(std::string("FaultProxy: eventfd: ") + std::strerror(errno));
  }
  listen_fd_ = fd;
  listener_wake_ = wake;
  port_ = ntohs(a.sin_port);
  {
    std::lock_guard lk(mu_);
    stopping_ = false;
  }
  listener_ = std::thread([this] { listen_loop(); });
}

void FaultProxy::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    wake_all_locked();
  }
  fp_wake(listener_wake_);
  if (listener_.joinable()) listener_.join();
  std::list<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard lk(mu_);
    conns.swap(conns_);
  }
  for (auto& c : conns)
    if (c->thread.joinable()) c->thread.join();
  conns.clear();  // closes whatever a thread left open
  fp_close(listen_fd_);
  fp_close(listener_wake_);
}

void FaultProxy::pass() {
  set_mode(Mode{}, false);
}

void FaultProxy::latency(std::chrono::milliseconds fixed, std::chrono::milliseconds jitter) {
  if (fixed.count() < 0 || jitter.count() < 0) throw std::invalid_argument("FaultProxy::latency: negative");
  Mode m;
  m.kind = Kind::Latency;
  m.fixed = fixed;
  m.jitter = jitter;
  set_mode(m, false);
}

void FaultProxy::bandwidth(size_t bytes_per_second) {
  if (bytes_per_second == 0) throw std::invalid_argument("FaultProxy::bandwidth: 0 (use half_open())");
  Mode m;
  m.kind = Kind::Bandwidth;
  m.bytes_per_second = bytes_per_second;
  set_mode(m, false);
}

void FaultProxy::blackhole() {
  Mode m;
  m.kind = Kind::Blackhole;
  set_mode(m, false);
}

void FaultProxy::reset_new() {
  Mode m;
  m.kind = Kind::ResetNew;
  set_mode(m, false);
}

void FaultProxy::reset_all() {
  Mode m;
  m.kind = Kind::ResetNew;
  set_mode(m, true);
}

void FaultProxy::close_after(size_t bytes) {
  Mode m;
  m.kind = Kind::CloseAfter;
  m.close_after = bytes;
  set_mode(m, false);
}

void FaultProxy::half_open() {
  Mode m;
  m.kind = Kind::HalfOpen;
  set_mode(m, false);
}

void FaultProxy::set_mode(Mode m, bool reset_existing) {
  std::unique_lock lk(mu_);
  m.generation = mode_.generation + 1;
  mode_ = m;
  std::vector<std::shared_ptr<Conn>> targets;
  if (reset_existing) {
    for (auto& c : conns_) {
      if (c->finished) continue;
      c->reset_requested = true;
      targets.push_back(c);
    }
  }
  wake_all_locked();
  // Wait until every connection works under the new mode (and the ones to reset are closed), so that
  // from the moment a setter returns no byte moves under the previous mode. Connection threads only
  // ever block in poll(), which the eventfd interrupts: this is quick.
  changed_.wait(lk, [&] {
    for (const auto& c : conns_)
      if (!c->finished && c->seen_generation != mode_.generation) return false;
    return std::all_of(targets.begin(), targets.end(), [](const auto& c) { return c->finished.load(); });
  });
}

void FaultProxy::wake_all_locked() {
  for (auto& c : conns_)
    if (!c->finished) fp_wake(c->wake);
}

void FaultProxy::reap_finished_locked() {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if ((*it)->finished) {
      if ((*it)->thread.joinable()) (*it)->thread.join();  // it has nothing left to do but return
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

void FaultProxy::listen_loop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {listener_wake_, POLLIN, 0}};
    if (fp_poll(fds, 2, -1) < 0) break;
    if (fds[1].revents) fp_drain(listener_wake_);
    {
      std::lock_guard lk(mu_);
      if (stopping_) return;
      reap_finished_locked();
    }
    if (!(fds[0].revents & POLLIN)) continue;
    for (;;) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        break;  // EAGAIN (or out of descriptors: poll again)
      }
      ++accepted_;
      std::lock_guard lk(mu_);  // the mode seen here and the list stay consistent with reset_all()
      if (stopping_) {
        ::close(fd);
        return;
      }
      if (mode_.kind == Kind::ResetNew) {
        fp_reset(fd);
        continue;
      }
      int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
      if (wake < 0) {
        fp_reset(fd);
        continue;
      }
      auto c = std::make_shared<Conn>();
      c->client = fd;
      c->wake = wake;
      c->discarding = mode_.kind == Kind::Blackhole;
      ++active_;
      conns_.push_back(c);
      c->thread = std::thread([this, c] { serve(*c); });
    }
  }
}

void FaultProxy::serve(Conn& c) {
  struct Chunk {
    FpClock::time_point due;
    std::string data;
    size_t off = 0;
  };
  struct Dir {  // one direction of the pair
    std::deque<Chunk> q;
    size_t queued = 0;
    bool src_eof = false;   // the source sent FIN
    bool dst_shut = false;  // we sent FIN on to the destination
    bool blocked = false;   // the destination's send buffer is full: wait for POLLOUT
    FpClock::time_point next_send{}, last_due{};
  };
  Dir up, down;  // up: client -> upstream; down: upstream -> client
  enum class Upstream { None, Connecting, Connected } ups = Upstream::None;
  bool budgeted = false;  // close_after() in force for this connection
  uint64_t budget_generation = 0;
  size_t budget = 0;
  std::mt19937_64 rng(std::random_device{}());
  bool reset = false;  // how the connection ends: RST (true) or FIN

  const auto read_into = [&](int fd, Dir& d, const Mode& m) -> bool {  // false: fatal error
    char buf[kFpReadSize];
    ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r == 0) {
      d.src_eof = true;
      return true;
    }
    if (r < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    auto due = FpClock::now();
    if (m.kind == Kind::Latency) {
      auto extra =
          m.jitter.count() > 0
              ? std::chrono::milliseconds(std::uniform_int_distribution<long long>(0, m.jitter.count())(rng))
              : std::chrono::milliseconds(0);
      due += m.fixed + extra;
    }
    due = std::max(due, d.last_due);  // never overtake the previous chunk
    d.last_due = due;
    d.q.push_back(Chunk{due, std::string(buf, static_cast<size_t>(r))});
    d.queued += static_cast<size_t>(r);
    return true;
  };

  const auto pump = [&](Dir& d, int dst, bool downstream, const Mode& m, FpClock::time_point now) -> bool {
    d.blocked = false;
    while (!d.q.empty()) {
      Chunk& ch = d.q.front();
      if (ch.due > now) return true;
      size_t n = ch.data.size() - ch.off;
      if (m.kind == Kind::Bandwidth) {
        if (d.next_send > now) return true;
        n = std::min(n, std::max<size_t>(1, m.bytes_per_second / kFpSlicesPerSecond));
      }
      if (downstream && budgeted) n = std::min(n, budget);
      if (n == 0) return true;
      ssize_t w = ::send(dst, ch.data.data() + ch.off, n, MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          d.blocked = true;
          return true;
        }
        return false;
      }
      auto sent = static_cast<size_t>(w);
      ch.off += sent;
      d.queued -= sent;
      forwarded_ += sent;
      if (downstream && budgeted) budget -= sent;
      if (m.kind == Kind::Bandwidth)
        d.next_send =
            std::max(d.next_send, now) +
            std::chrono::nanoseconds(static_cast<long long>(sent * 1'000'000'000ULL / m.bytes_per_second));
      if (ch.off == ch.data.size()) d.q.pop_front();
    }
    return true;
  };

  for (;;) {
    Mode m;
    {
      std::lock_guard lk(mu_);
      m = mode_;
      if (c.seen_generation != m.generation) {
        c.seen_generation = m.generation;
        changed_.notify_all();
      }
      if (stopping_) break;
      if (c.reset_requested) {
        reset = true;
        break;
      }
    }
    if (m.kind == Kind::Blackhole && !c.discarding) {
      c.discarding = true;
      up = Dir{};
      down = Dir{};
      if (ups == Upstream::Connecting) fp_close(c.upstream);
    }

    if (c.discarding) {  // read and drop everything; never answer
      pollfd fds[3] = {{c.wake, POLLIN, 0}, {c.client, POLLIN, 0}, {c.upstream, POLLIN, 0}};
      if (fp_poll(fds, 3, -1) < 0) break;
      if (fds[0].revents) fp_drain(c.wake);
      char buf[kFpReadSize];
      if (fds[1].revents) {
        ssize_t r = ::recv(c.client, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
      }
      if (c.upstream >= 0 && fds[2].revents) {
        ssize_t r = ::recv(c.upstream, buf, sizeof buf, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
          fp_close(c.upstream);
      }
      continue;
    }

    if (m.kind == Kind::HalfOpen) {  // a silent partition: touch nothing until the mode changes
      pollfd fds[1] = {{c.wake, POLLIN, 0}};
      if (fp_poll(fds, 1, -1) < 0) break;
      fp_drain(c.wake);
      continue;
    }

    // Forwarding modes: Pass, Latency, Bandwidth, CloseAfter and ResetNew (which spares existing ones).
    if (ups == Upstream::None) {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr = fp_require_loopback(upstream_host_, "upstream");
      a.sin_port = htons(upstream_port_);
      c.upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (c.upstream < 0) {
        reset = true;
        break;
      }
      if (::connect(c.upstream, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        ups = Upstream::Connected;
      } else if (errno == EINPROGRESS || errno == EINTR) {
        ups = Upstream::Connecting;
      } else {
        reset = true;  // the dependency is down: the client sees its connection reset
        break;
      }
    }
    if (m.kind == Kind::CloseAfter) {
      if (!budgeted || budget_generation != m.generation) {
        budgeted = true;
        budget_generation = m.generation;
        budget = m.close_after;
      }
    } else {
      budgeted = false;
    }

    auto now = FpClock::now();
    if (ups == Upstream::Connected && !pump(up, c.upstream, false, m, now)) {
      reset = true;
      break;
    }
    if (!pump(down, c.client, true, m, now)) {
      reset = true;
      break;
    }
    if (budgeted && budget == 0) break;
    if (ups == Upstream::Connected && up.src_eof && up.q.empty() && !up.dst_shut) {
      ::shutdown(c.upstream, SHUT_WR);
      up.dst_shut = true;
    }
    if (down.src_eof && down.q.empty() && !down.dst_shut) {
      ::shutdown(c.client, SHUT_WR);
      down.dst_shut = true;
    }
    if (up.dst_shut && down.dst_shut) break;

    // What to wait for. A socket we want nothing from is left out, so that a POLLHUP cannot spin us.
    short client_events = 0, upstream_events = 0;
    if (!up.src_eof && up.queued < kFpQueueCap) client_events |= POLLIN;
    if (down.blocked) client_events |= POLLOUT;
    if (ups == Upstream::Connecting) {
      upstream_events = POLLOUT;
    } else {
      if (!down.src_eof && down.queued < kFpQueueCap) upstream_events |= POLLIN;
      if (up.blocked) upstream_events |= POLLOUT;
    }
    int timeout = -1;
    const auto consider = [&](const Dir& d, bool can_send) {
      if (!can_send || d.blocked || d.q.empty()) return;
      auto t = d.q.front().due;
      if (m.kind == Kind::Bandwidth) t = std::max(t, d.next_send);
      int ms = fp_timeout_ms(now, t);
      timeout = timeout < 0 ? ms : std::min(timeout, ms);
    };
    consider(up, ups == Upstream::Connected);
    consider(down, true);

    pollfd fds[3] = {{c.wake, POLLIN, 0},
                     {client_events ? c.client : -1, client_events, 0},
                     {upstream_events ? c.upstream : -1, upstream_events, 0}};
    if (fp_poll(fds, 3, timeout) < 0) break;
    if (fds[0].revents) {
      // The mode changed (or stop / reset_all): take the new mode before reading anything, so that
      // bytes sent after a setter returned are always handled under the new mode.
      fp_drain(c.wake);
      continue;
    }
    if (ups == Upstream::Connecting && fds[2].revents) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(c.upstream, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        reset = true;
        break;
      }
      ups = Upstream::Connected;
      fds[2].revents = 0;
    }
    if ((fds[1].revents & (POLLIN | POLLHUP | POLLERR)) && (client_events & POLLIN) &&
        !read_into(c.client, up, m)) {
      reset = true;
      break;
    }
    if ((fds[2].revents & (POLLIN | POLLHUP | POLLERR)) && (upstream_events & POLLIN) &&
        !read_into(c.upstream, down, m)) {
      reset = true;
      break;
    }
    // An error on a socket we only wait to write to (POLLOUT) is reported by the next send().
  }

  if (reset) {
    fp_reset(c.client);
    fp_reset(c.upstream);
  } else {
    fp_close_gracefully(c.client);
    fp_close_gracefully(c.upstream);
  }
  --active_;
  {
    std::lock_guard lk(mu_);
    c.finished = true;
  }
  changed_.notify_all();
  fp_wake(listener_wake_);  // so that the listener joins this thread
}

}  // namespace dive::testing
