// HttpServer: the listening socket, the I/O threads (one io_context each, connections spread round-robin)
// and the worker pool, plus start/stop. Connections themselves are in server_session.cpp.
#include "net/https_server.hpp"

#include <sys/socket.h>

#include <utility>  // before Asio (Boost 1.74 with g++ 12)

#include <spdlog/spdlog.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <stdexcept>
#include <thread>

#include "common/mutex.hpp"
#include "net/router.hpp"
#include "net/server_core.hpp"
#include "net/tls_context.hpp"

namespace dive::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

int default_worker_threads() {
  return static_cast<int>(std::max<unsigned>(4, 4 * std::thread::hardware_concurrency()));
}

class HttpServer::Impl {
 public:
  Impl(ServerConfig cfg, std::shared_ptr<const Router> router, metrics::Registry& registry)
      : n_io_(cfg.io_threads > 0 ? static_cast<size_t>(cfg.io_threads)
                                 : std::max<size_t>(1, std::thread::hardware_concurrency())) {
    if (!router) throw std::invalid_argument("HttpServer needs a router");
    core_ = std::make_unique<detail::ServerCore>(std::move(cfg), std::move(router), registry, n_io_);
  }

  ~Impl() { stop(Millis(5000)); }

  void start() {
    MutexLock lock(state_mu_);
    if (state_ != State::Idle) throw std::logic_error("HttpServer::start called twice or after stop");
    const auto& cfg = core_->cfg;
    if (cfg.cert_file.empty() != cfg.key_file.empty())
      throw std::runtime_error("TLS needs both cert_file and key_file");
    if (!cfg.cert_file.empty()) tls_ = detail::make_server_tls_context(cfg.cert_file, cfg.key_file);
    try {
      listen();
    } catch (...) {
      acceptor_.reset();
      guards_.clear();
      iocs_.clear();
      tls_.reset();
      throw;
    }
    core_->workers = std::make_unique<asio::thread_pool>(
        static_cast<size_t>(cfg.worker_threads > 0 ? cfg.worker_threads : default_worker_threads()));
    do_accept();
    for (size_t i = 0; i < n_io_; ++i) threads_.emplace_back([this, i] { run_io(*iocs_[i]); });
    state_ = State::Running;
  }

  uint16_t port() const { return port_.load(); }

  void stop(Millis grace) {
    {
      MutexLock lock(state_mu_);
      if (state_ == State::Idle || state_ == State::Stopped) {
        state_ = State::Stopped;
        state_cv_.notify_all();
        return;
      }
      if (state_ == State::Stopping) {
        state_cv_.wait(state_mu_, [&]() REQUIRES(state_mu_) { return state_ == State::Stopped; });
        return;
      }
      for (auto& ioc : iocs_)
        if (ioc->get_executor().running_in_this_thread())
          throw std::logic_error("HttpServer::stop called from an I/O thread");
      if (core_->workers && core_->workers->get_executor().running_in_this_thread())
        throw std::logic_error("HttpServer::stop called from a handler");
      state_ = State::Stopping;
    }
    const auto& cfg = core_->cfg;
    core_->stopping.store(true);
    asio::post(*iocs_[0], [this] {
      error_code ignored;
      acceptor_->close(ignored);
      if (accept_retry_) accept_retry_->cancel();
    });
    for (auto& s : core_->live_sessions()) s->request_stop();
    if (!core_->wait_no_sessions(grace)) {
      auto left = core_->live_sessions();
      spdlog::warn("{}: closing {} connection(s) still busy after the {} ms shutdown grace period",
                   cfg.service, left.size(), grace.count());
      for (auto& s : left) s->request_close();
    }
    core_->workers->join();  // Worker handlers still running finish; their responses go nowhere
    guards_.clear();
    for (auto& ioc : iocs_) ioc->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    core_->workers.reset();
    accept_retry_.reset();
    acceptor_.reset();
    iocs_.clear();  // destroys whatever sessions remain
    tls_.reset();
    MutexLock lock(state_mu_);
    state_ = State::Stopped;
    state_cv_.notify_all();
  }

  void wait() {
    MutexLock lock(state_mu_);
    state_cv_.wait(state_mu_, [&]() REQUIRES(state_mu_) { return state_ == State::Stopped; });
  }

 private:
  enum class State { Idle, Running, Stopping, Stopped };

  void listen() {
    const auto& cfg = core_->cfg;
    for (size_t i = 0; i < n_io_; ++i) {
      iocs_.push_back(std::make_unique<asio::io_context>(1));
      guards_.push_back(asio::make_work_guard(*iocs_.back()));
    }
    auto fail = [&](const std::string& why) {
      return std::runtime_error("cannot listen on " + cfg.host + ":" + std::to_string(cfg.port) + ": " + why);
    };
    error_code ec;
    auto addr = asio::ip::make_address(cfg.host == "localhost" ? "127.0.0.1" : cfg.host, ec);
    if (ec) {
      tcp::resolver resolver(*iocs_[0]);
      auto results = resolver.resolve(cfg.host, "", ec);
      if (ec || results.empty()) throw fail(ec ? ec.message() : "host not found");
      addr = results.begin()->endpoint().address();
    }
    tcp::endpoint ep(addr, cfg.port);
    acceptor_ = std::make_unique<tcp::acceptor>(*iocs_[0]);
    if (cfg.inherited_fd >= 0) {
      int listening = 0;
      socklen_t len = sizeof listening;
      if (::getsockopt(cfg.inherited_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening)
        throw fail("the handed-over descriptor " + std::to_string(cfg.inherited_fd) +
                   " is not a listening socket");
      sockaddr_storage local{};
      socklen_t local_len = sizeof local;
      ::getsockname(cfg.inherited_fd, reinterpret_cast<sockaddr*>(&local), &local_len);
      const auto protocol = local.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
      if (acceptor_->assign(protocol, cfg.inherited_fd, ec)) throw fail(ec.message());
      port_ = acceptor_->local_endpoint().port();
      if (cfg.port != 0 && port_ != cfg.port)
        throw fail("the handed-over socket listens on port " + std::to_string(port_.load()));
      return;
    }
    if (acceptor_->open(ep.protocol(), ec)) throw fail(ec.message());
    acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
    if (acceptor_->bind(ep, ec)) throw fail(ec.message());
    if (acceptor_->listen(asio::socket_base::max_listen_connections, ec)) throw fail(ec.message());
    port_ = acceptor_->local_endpoint().port();
  }

  static void run_io(asio::io_context& ioc) {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        spdlog::error("http server I/O thread: unexpected exception: {}", e.what());
      }
    }
  }

  void do_accept() {
    size_t idx = next_io_;
    next_io_ = (next_io_ + 1) % n_io_;
    acceptor_->async_accept(*iocs_[idx],
                            [this, idx](error_code ec, tcp::socket s) { on_accept(ec, idx, std::move(s)); });
  }

  void on_accept(error_code ec, size_t idx, tcp::socket s) {
    const auto& cfg = core_->cfg;
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
      spdlog::warn("{}: accept failed: {}", cfg.service, ec.message());
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
          ec == asio::error::no_memory || ec.value() == ENFILE) {
        // Out of file descriptors: back off instead of spinning; existing connections keep being served.
        if (!accept_retry_) accept_retry_ = std::make_unique<asio::steady_timer>(*iocs_[0]);
        accept_retry_->expires_after(std::chrono::milliseconds(50));
        accept_retry_->async_wait([this](error_code e) {
          if (!e && acceptor_->is_open()) do_accept();
        });
        return;
      }
      return do_accept();
    }
    error_code ignored;
    if (core_->stopping.load()) {
      s.close(ignored);
      return;
    }
    const size_t open = core_->connections.load(std::memory_order_relaxed);
    const auto shed_from = static_cast<size_t>(static_cast<double>(cfg.max_connections) * cfg.shed_idle_at);
    if (open >= shed_from) {
      // Near the cap: make room by closing the longest-idle keep-alive connection, so that a client with a
      // request is served before one that only holds a socket.
      const size_t shed = core_->shed_idle(1);
      if (shed) core_->metrics.shed(true).inc();
      if (open >= cfg.max_connections && shed == 0) {
        spdlog::debug("{}: connection limit {} reached and nothing idle to shed; closing a new connection",
                      cfg.service, cfg.max_connections);
        core_->metrics.shed(false).inc();
        s.close(ignored);
        return do_accept();
      }
    }
    s.set_option(tcp::no_delay(true), ignored);
    detail::start_session(*core_, idx, std::move(s), tls_.get());
    do_accept();
  }

  const size_t n_io_;
  // Declaration order is destruction order in reverse: the core (and the TLS context) outlive the
  // io_contexts, whose destruction may destroy the last sessions.
  std::unique_ptr<detail::ServerCore> core_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::vector<std::unique_ptr<asio::io_context>> iocs_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> accept_retry_;
  std::vector<std::thread> threads_;
  size_t next_io_ = 0;
  std::atomic<uint16_t> port_{0};

  // The members above belong to the one thread in start() or stop() (the state keeps others out); the
  // I/O threads use them only between the two.
  Mutex state_mu_;
  CondVar state_cv_;
  State state_ GUARDED_BY(state_mu_) = State::Idle;
};

HttpServer::HttpServer(ServerConfig cfg, std::shared_ptr<const Router> router, metrics::Registry* registry)
    : impl_(std::make_unique<Impl>(std::move(cfg), std::move(router),
                                   registry ? *registry : metrics::Registry::global())) {}
HttpServer::~HttpServer() = default;
void HttpServer::start() {
  impl_->start();
}
uint16_t HttpServer::port() const {
  return impl_->port();
}
void HttpServer::stop(Millis grace) {
  impl_->stop(grace);
}
void HttpServer::wait() {
  impl_->wait();
}

}  // namespace dive::net
