#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <cctype>
#include <system_error>
#include <thread>

#include "common/mutex.hpp"
#include "store/error_text.hpp"
#include "store/redis_client.hpp"
#include "store/redis_connection.hpp"

namespace dive::store {

namespace {

// Silence on a subscribed connection longer than this sends a PING; no answer within it again is a dead link
// (a half-open TCP connection would otherwise go unnoticed for hours).
constexpr Millis kPingAfterSilence{15000};
constexpr Millis kPollSlice{1000};

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class WakePipe {
 public:
  WakePipe() {
    if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe2");
  }
  ~WakePipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  WakePipe(const WakePipe&) = delete;
  WakePipe& operator=(const WakePipe&) = delete;
  int read_fd() const { return fds_[0]; }
  void wake() {
    char b = 1;
    [[maybe_unused]] auto n = ::write(fds_[1], &b, 1);
  }
  void drain() {
    char buf[64];
    while (::read(fds_[0], buf, sizeof buf) > 0) {
    }
  }

 private:
  int fds_[2] = {-1, -1};
};

}  // namespace

struct RedisSubscriber::Impl {
  RedisConfig cfg;
  std::vector<std::string> channels;
  MessageFn on_message;
  std::function<void()> on_subscribed;
  std::string endpoint;

  WakePipe wake;
  std::atomic<bool> stopping{false};
  std::atomic<bool> connected{false};
  std::atomic<uint64_t> reconnects{0};
  bool subscribed_before = false;  // the subscriber thread only

  // A duplicate of the live connection's socket, which stop() shuts down to interrupt blocking I/O. Being our
  // own descriptor, it cannot be reused for something else while the connection closes its original.
  Mutex fd_mu;
  int socket GUARDED_BY(fd_mu) = -1;

  Mutex run_mu;  // start/stop
  std::thread thread GUARDED_BY(run_mu);

  void set_socket(int fd) {
    MutexLock lk(fd_mu);
    if (socket >= 0) ::close(socket);
    socket = fd >= 0 ? ::fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
    if (socket >= 0 && stopping) ::shutdown(socket, SHUT_RDWR);
  }

  // Waits for the wake pipe; false when stop was requested.
  bool sleep(Millis d) {
    pollfd p{wake.read_fd(), POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(d.count()));
    return !stopping;
  }

  ~Impl() { set_socket(-1); }

  void run() {
    resilience::Backoff backoff(cfg.reconnect);
    bool failing = false;
    while (!stopping) {
      try {
        RedisConnection conn(cfg, [this](int fd) { set_socket(fd); });
        session(conn, backoff);
        set_socket(-1);
      } catch (const std::exception& e) {
        set_socket(-1);
        const bool was_connected = connected.exchange(false);
        if (stopping) break;
        if (was_connected || !failing)
          spdlog::warn("{} subscriber: {}; reconnecting with backoff", endpoint, one_line(e.what()));
        failing = true;
      }
      connected = false;
      if (!sleep(backoff.next())) break;
    }
    connected = false;
  }

  // Subscribes, then dispatches until the connection fails (throws) or stop is requested (returns).
  void session(RedisConnection& conn, resilience::Backoff& backoff) {
    std::vector<std::string> cmd{"SUBSCRIBE"};
    cmd.insert(cmd.end(), channels.begin(), channels.end());
    conn.send(cmd);
    const auto sub_deadline = std::chrono::steady_clock::now() + cfg.command_timeout;
    size_t confirmed = 0;
    bool ready = false;
    auto last_rx = std::chrono::steady_clock::now();
    bool ping_out = false;
    while (!stopping) {
      const auto now = std::chrono::steady_clock::now();
      Millis slice = kPollSlice;
      if (!ready) slice = std::max(Millis(1), std::chrono::duration_cast<Millis>(sub_deadline - now));
      pollfd p[2] = {{conn.fd(), POLLIN, 0}, {wake.read_fd(), POLLIN, 0}};
      int n = ::poll(p, 2, static_cast<int>(slice.count()));
      if (stopping) return;
      if (n < 0) {
        if (errno == EINTR) continue;
        throw RedisUnavailable(endpoint + ": poll failed");
      }
      if (n == 0) {
        const auto t = std::chrono::steady_clock::now();
        if (!ready)
          throw RedisUnavailable(endpoint + ": SUBSCRIBE not confirmed within " +
                                 std::to_string(cfg.command_timeout.count()) + " ms");
        if (ping_out && t - last_rx > 2 * kPingAfterSilence)
          throw RedisUnavailable(endpoint + ": no answer to PING: connection presumed dead");
        if (!ping_out && t - last_rx > kPingAfterSilence) {
          conn.send({"PING"});
          ping_out = true;
        }
        continue;
      }
      if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      for (auto& r : conn.read_available()) {
        last_rx = std::chrono::steady_clock::now();
        ping_out = false;
        if (r.type == RedisReply::Type::Error)
          throw RedisUnavailable(endpoint + ": subscription refused: " + one_line(r.str));
        if (r.type != RedisReply::Type::Array || r.elements.empty()) continue;
        const std::string kind = lower(r.elements[0].str);
        if (kind == "message" && r.elements.size() == 3) {
          deliver(r.elements[1].str, r.elements[2].str);
        } else if (kind == "subscribe" && !ready && ++confirmed >= channels.size()) {
          ready = true;
          backoff.reset();
          subscribed();
        }
      }
    }
  }

  void subscribed() {
    connected = true;
    if (subscribed_before) {
      ++reconnects;
      spdlog::info("{} subscriber: reconnected and resubscribed", endpoint);
    }
    subscribed_before = true;
    if (!on_subscribed) return;
    try {
      on_subscribed();
    } catch (const std::exception& e) {
      spdlog::error("{} subscriber: on_subscribed failed: {}", endpoint, e.what());
    } catch (...) {
      spdlog::error("{} subscriber: on_subscribed failed", endpoint);
    }
  }

  void deliver(const std::string& channel, const std::string& message) {
    try {
      on_message(channel, message);
    } catch (const std::exception& e) {
      spdlog::error("{} subscriber: handler for channel {} failed: {}", endpoint, channel, e.what());
    } catch (...) {
      spdlog::error("{} subscriber: handler for channel {} failed", endpoint, channel);
    }
  }
};

RedisSubscriber::RedisSubscriber(RedisConfig cfg, std::vector<std::string> channels, MessageFn on_message,
                                 std::function<void()> on_subscribed)
    : impl_(std::make_unique<Impl>()) {
  if (channels.empty()) throw std::invalid_argument("RedisSubscriber: no channels");
  if (!on_message) throw std::invalid_argument("RedisSubscriber: no message handler");
  impl_->endpoint = redis_endpoint(cfg);
  impl_->cfg = std::move(cfg);
  impl_->channels = std::move(channels);
  impl_->on_message = std::move(on_message);
  impl_->on_subscribed = std::move(on_subscribed);
}

RedisSubscriber::~RedisSubscriber() {
  stop();
}

void RedisSubscriber::start() {
  MutexLock lk(impl_->run_mu);
  if (impl_->thread.joinable()) return;
  impl_->stopping = false;
  impl_->wake.drain();
  Impl* impl = impl_.get();
  impl_->thread = std::thread([impl] { impl->run(); });
}

void RedisSubscriber::stop() {
  MutexLock lk(impl_->run_mu);
  if (!impl_->thread.joinable()) return;
  impl_->stopping = true;
  impl_->wake.wake();
  {
    MutexLock fl(impl_->fd_mu);
    if (impl_->socket >= 0) ::shutdown(impl_->socket, SHUT_RDWR);
  }
  impl_->thread.join();
  impl_->connected = false;
}

bool RedisSubscriber::connected() const {
  return impl_->connected;
}

uint64_t RedisSubscriber::reconnects() const {
  return impl_->reconnects;
}

}  // namespace dive::store
