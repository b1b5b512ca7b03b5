#pragma once
// State shared by the server and its connection sessions (internal).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/mutex.hpp"
#include "net/https_server.hpp"
#include "net/router.hpp"
#include "net/server_metrics.hpp"

namespace dive::net::detail {

// What the server needs from a connection; both methods are thread-safe (they post to the session's thread).
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  virtual ~SessionBase() = default;
  virtual void request_stop() = 0;  // close when idle, else finish the current request with Connection: close
  virtual void request_close() = 0;  // close now
  virtual void request_shed() = 0;   // close if still idle between requests (else nothing)

  // Steady-clock ns since when the connection has waited for a request with nothing begun (after the TLS
  // handshake, or after a response on a keep-alive connection); 0 while it is busy. Written by the
  // session's thread, read by the acceptor's.
  std::atomic<int64_t> idle_since_ns{0};
};

// Thread-safe: shared by the acceptor, every session's io thread and the workers. The configuration,
// router and metrics are fixed (the metrics are atomics); mu guards the session table.
struct ServerCore {
  ServerCore(ServerConfig c, std::shared_ptr<const Router> r, metrics::Registry& registry, size_t io_threads)
      : cfg(std::move(c)), router(std::move(r)), metrics(registry, cfg.service, io_threads) {}

  const ServerConfig cfg;
  const std::shared_ptr<const Router> router;
  ServerMetrics metrics;
  std::unique_ptr<boost::asio::thread_pool> workers;
  std::atomic<bool> stopping{false};

  // Live sessions, for shutdown and the connection limit.
  uint64_t add_session(std::weak_ptr<SessionBase> s) {
    MutexLock lock(mu);
    uint64_t id = next_id++;
    sessions.emplace(id, std::move(s));
    return id;
  }
  void remove_session(uint64_t id) {
    {
      MutexLock lock(mu);
      sessions.erase(id);
    }
    cv.notify_all();
  }
  std::vector<std::shared_ptr<SessionBase>> live_sessions() {
    MutexLock lock(mu);
    std::vector<std::shared_ptr<SessionBase>> out;
    out.reserve(sessions.size());
    for (auto& [id, w] : sessions)
      if (auto s = w.lock()) out.push_back(std::move(s));
    return out;
  }
  // Asks up to n of the longest-idle sessions to close; returns how many were asked. A session is claimed
  // (its idle mark cleared) before it is asked, so that two new connections never count the same one.
  size_t shed_idle(size_t n) {
    std::vector<std::pair<int64_t, std::shared_ptr<SessionBase>>> idle;
    {
      MutexLock lock(mu);
      for (auto& [id, w] : sessions)
        if (auto s = w.lock()) {
          int64_t since = s->idle_since_ns.load(std::memory_order_relaxed);
          if (since != 0) idle.emplace_back(since, std::move(s));
        }
    }
    std::sort(idle.begin(), idle.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    size_t asked = 0;
    for (auto& [since, s] : idle) {
      if (asked == n) break;
      int64_t expected = since;
      if (!s->idle_since_ns.compare_exchange_strong(expected, 0)) continue;  // busy now, or claimed
      s->request_shed();
      ++asked;
    }
    return asked;
  }
  size_t session_count() {
    MutexLock lock(mu);
    return sessions.size();
  }
  template <class Rep, class Period>
  bool wait_no_sessions(std::chrono::duration<Rep, Period> d) {
    MutexLock lock(mu);
    return cv.wait_for(mu, d, [&]() REQUIRES(mu) { return sessions.empty(); });
  }

  std::atomic<size_t> connections{0};

 private:
  Mutex mu;
  CondVar cv;
  std::unordered_map<uint64_t, std::weak_ptr<SessionBase>> sessions GUARDED_BY(mu);
  uint64_t next_id GUARDED_BY(mu) = 1;
};

// Creates a session for an accepted socket (on its own io_context) and starts it there. tls == nullptr:
// plain HTTP.
void start_session(ServerCore& core, size_t io_index, boost::asio::ip::tcp::socket socket,
                   boost::asio::ssl::context* tls);

}  // namespace dive::net::detail
