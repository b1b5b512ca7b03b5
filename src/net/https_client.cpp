// HttpsClient: one background I/O thread runs every call as an asynchronous chain (pool or connect, TLS
// handshake, write, read) under a single deadline timer; send() waits on a future. The pool and the TLS
// session cache are touched only on the I/O thread, so they need no lock.
#include "net/https_client.hpp"

#include "common/deadline.hpp"

#include <poll.h>

#include <utility>  // before Asio (Boost 1.74 with g++ 12)

#include <spdlog/spdlog.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>

#include <atomic>
#include <future>
#include <optional>
#include <thread>
#include <unordered_map>

#include "common/strings.hpp"
#include "net/response_parser.hpp"
#include "net/tls_context.hpp"

namespace dive::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using TlsStream = asio::ssl::stream<tcp::socket>;
using Kind = TransportError::Kind;

TransportError::TransportError(Kind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}

const char* to_string(TransportError::Kind kind) {
  switch (kind) {
    case Kind::Connect:
      return "connect";
    case Kind::Tls:
      return "tls";
    case Kind::Timeout:
      return "timeout";
    case Kind::Protocol:
      return "protocol";
    case Kind::BadUrl:
      return "bad_url";
  }
  return "unknown";
}

Json ClientResponse::json() const {
  return parse_json_limited(body);
}

namespace {

constexpr uint32_t kMaxResponseHeader = 64 * 1024;

struct Conn {
  std::string key;
  std::shared_ptr<asio::ssl::context> tls_ctx;  // the context the stream was made with (outlives it)
  std::optional<TlsStream> tls;
  std::optional<tcp::socket> plain;
  SteadyTime idle_since{};

  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
  template <class F>
  void with_stream(F&& f) {
    if (tls)
      f(*tls);
    else
      f(*plain);
  }
  void close() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }
  // A pooled connection is usable only when nothing is readable: data or EOF means the server closed it
  // (or sent something unsolicited).
  bool looks_alive() {
    if (!socket().is_open()) return false;
    pollfd p{socket().native_handle(), POLLIN | POLLRDHUP, 0};
    return ::poll(&p, 1, 0) == 0;
  }
};

struct SessionFree {
  void operator()(SSL_SESSION* s) const { SSL_SESSION_free(s); }
};
using SessionPtr = std::unique_ptr<SSL_SESSION, SessionFree>;

bool token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
      return false;
  return true;
}

bool safe_value(std::string_view s) {
  for (char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

std::string host_header(const Url& u) {
  std::string h = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  bool default_port = (u.scheme == "https" && u.port == 443) || (u.scheme == "http" && u.port == 80);
  if (!default_port) h += ":" + std::to_string(u.port);
  return h;
}

}  // namespace

class HttpsClient::Impl {
 public:
  explicit Impl(ClientConfig cfg)
      : cfg_(std::move(cfg)),
        // Loading the system CA store costs ~30 ms: only done on first https use. An explicit CA file is
        // loaded now so that a bad path fails at construction.
        tls_ctx_(cfg_.ca_file.empty() && cfg_.verify
                     ? nullptr
                     : detail::make_client_tls_context(cfg_.ca_file, cfg_.verify)),
        guard_(asio::make_work_guard(ioc_)),
        sweep_(ioc_) {
    schedule_sweep();
    thread_ = std::thread([this] {
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {  // a call still ends: its deadline timer fails it
          spdlog::error("http client I/O thread: unexpected exception: {}", e.what());
        }
      }
    });
  }

  ~Impl() {
    // Pooled connections close when idle_ goes; calls still queued are destroyed with ioc_, which breaks
    // their promises (send() then throws TransportError).
    guard_.reset();
    ioc_.stop();
    thread_.join();
  }

  ClientResponse send(const ClientRequest& req);
  // Loads the new CA file now (throws when it cannot be), then swaps it in on the I/O thread: new
  // connections verify against it; pooled connections and cached TLS sessions are dropped.
  void set_ca_file(const std::string& ca_file) {
    auto ctx = detail::make_client_tls_context(ca_file, cfg_.verify);
    std::promise<void> done;
    asio::post(ioc_, [this, ctx, &done] {
      tls_ctx_ = ctx;
      for (auto& [k, vec] : idle_)
        for (auto& c : vec) c->close();
      idle_.clear();
      idle_count_ = 0;
      sessions_.clear();
      done.set_value();
    });
    done.get_future().wait();
  }
  Stats stats() const {
    return Stats{connects_.load(), reuses_.load(), errors_.load(), idle_count_.load(), resumed_.load()};
  }

 private:
  class Call;

  // ---- pool (I/O thread only) ----
  std::unique_ptr<Conn> take(const std::string& key) {
    auto it = idle_.find(key);
    if (it == idle_.end()) return nullptr;
    auto& vec = it->second;
    auto now = std::chrono::steady_clock::now();
    while (!vec.empty()) {
      auto c = std::move(vec.back());
      vec.pop_back();
      --idle_count_;
      if (now - c->idle_since < cfg_.idle_ttl && c->looks_alive()) return c;
      c->close();
    }
    return nullptr;
  }

  void put(std::unique_ptr<Conn> c) {
    if (cfg_.max_idle_per_host == 0) return c->close();
    auto& vec = idle_[c->key];
    if (vec.size() >= cfg_.max_idle_per_host) {  // evict the oldest
      vec.front()->close();
      vec.erase(vec.begin());
      --idle_count_;
    }
    c->idle_since = std::chrono::steady_clock::now();
    vec.push_back(std::move(c));
    ++idle_count_;
  }

  void schedule_sweep() {
    auto period = std::clamp<Millis>(cfg_.idle_ttl / 2, Millis(50), Millis(30000));
    sweep_.expires_after(period);
    sweep_.async_wait([this](error_code ec) {
      if (ec) return;
      auto now = std::chrono::steady_clock::now();
      for (auto& [k, vec] : idle_) {
        std::erase_if(vec, [&](std::unique_ptr<Conn>& c) {
          if (now - c->idle_since < cfg_.idle_ttl && c->looks_alive()) return false;
          c->close();
          --idle_count_;
          return true;
        });
      }
      schedule_sweep();
    });
  }

  SSL_SESSION* cached_session(const std::string& key) {
    auto it = sessions_.find(key);
    return it == sessions_.end() ? nullptr : it->second.get();
  }
  // A copy: OpenSSL marks a connection's own session non-resumable when that connection is freed without a
  // close_notify, which is how pooled connections usually end.
  void remember_session(const std::string& key, SSL* ssl) {
    SSL_SESSION* live = SSL_get0_session(ssl);
    if (!live || !SSL_SESSION_is_resumable(live)) return;
    SessionPtr copy(SSL_SESSION_dup(live));
    if (copy) sessions_[key] = std::move(copy);
  }

  const ClientConfig cfg_;
  asio::io_context ioc_{1};
  std::shared_ptr<asio::ssl::context> tls_ctx_;  // created lazily on the I/O thread when null
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  asio::steady_timer sweep_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<Conn>>> idle_;
  std::unordered_map<std::string, SessionPtr> sessions_;
  std::atomic<uint64_t> connects_{0}, reuses_{0}, errors_{0}, resumed_{0};
  std::atomic<size_t> idle_count_{0};
  std::thread thread_;
};

// One call: a chain of asynchronous steps on the client's I/O thread, finished exactly once by finish() or
// fail(); the deadline timer closes the connection, which completes whatever step is pending.
class HttpsClient::Impl::Call : public std::enable_shared_from_this<Call> {
 public:
  Call(Impl& client, Url url, std::string wire, bool head, Millis timeout)
      : client_(client),
        url_(std::move(url)),
        key_(url_.scheme + "://" + url_.host + ":" + std::to_string(url_.port)),
        wire_(std::move(wire)),
        head_(head),
        deadline_(std::chrono::steady_clock::now() + timeout),
        timer_(client.ioc_),
        resolver_(client.ioc_) {}

  std::future<ClientResponse> future() { return promise_.get_future(); }

  void start() {
    if (std::chrono::steady_clock::now() >= deadline_) return fail(Kind::Timeout, "deadline exceeded");
    conn_ = client_.take(key_);
    if (conn_) {
      reused_ = true;
      ++client_.reuses_;
      arm(deadline_, false);
      return write();
    }
    connect();
  }

 private:
  std::string where() const { return url_.host + ":" + std::to_string(url_.port); }

  // ---- deadline ----
  void arm(SteadyTime at, bool connect_phase) {
    connect_phase_ = connect_phase;
    timer_.expires_at(at);
    timer_.async_wait([self = shared_from_this(), gen = ++timer_gen_](error_code ec) {
      if (ec || self->done_ || gen != self->timer_gen_) return;
      self->on_timer();
    });
  }
  void on_timer() {
    bool overall = std::chrono::steady_clock::now() >= deadline_;
    if (overall || !connect_phase_)
      fail(Kind::Timeout, "request to " + where() + " timed out");
    else
      fail(Kind::Connect, "connect to " + where() + " timed out after " +
                              std::to_string(client_.cfg_.connect_timeout.count()) + " ms");
  }

  // ---- connect ----
  void connect() {
    reused_ = false;
    bool https = url_.scheme == "https";
    if (https && !client_.tls_ctx_) {
      try {
        client_.tls_ctx_ = detail::make_client_tls_context(client_.cfg_.ca_file, client_.cfg_.verify);
      } catch (const std::exception& e) {
        return fail(Kind::Tls, e.what());
      }
    }
    conn_ = std::make_unique<Conn>();
    conn_->key = key_;
    if (https) {
      conn_->tls_ctx = client_.tls_ctx_;
      conn_->tls.emplace(client_.ioc_, *conn_->tls_ctx);
    } else {
      conn_->plain.emplace(client_.ioc_);
    }
    arm(std::min(deadline_, std::chrono::steady_clock::now() + client_.cfg_.connect_timeout), true);
    error_code ec;
    auto addr = asio::ip::make_address(url_.host, ec);
    if (!ec) {
      return conn_->socket().async_connect(
          tcp::endpoint(addr, url_.port), [self = shared_from_this()](error_code e) { self->on_connect(e); });
    }
    resolver_.async_resolve(
        url_.host, std::to_string(url_.port),
        [self = shared_from_this()](error_code e, tcp::resolver::results_type results) {
          if (self->done_) return;
          if (e) return self->fail(Kind::Connect, "cannot resolve " + self->url_.host + ": " + e.message());
          asio::async_connect(self->conn_->socket(), results,
                              [self](error_code e2, const tcp::endpoint&) { self->on_connect(e2); });
        });
  }

  void on_connect(error_code ec) {
    if (done_) return;
    if (ec) return fail(Kind::Connect, "connect to " + where() + " failed: " + ec.message());
    error_code ignored;
    conn_->socket().set_option(tcp::no_delay(true), ignored);
    arm(deadline_, false);
    if (!conn_->tls) {
      ++client_.connects_;
      return write();
    }
    SSL* ssl = conn_->tls->native_handle();
    if (!detail::configure_client_ssl(ssl, url_.host, client_.cfg_.verify))
      return fail(Kind::Tls, "cannot set up TLS for host " + url_.host);
    if (SSL_SESSION* s = client_.cached_session(key_)) SSL_set_session(ssl, s);
    conn_->tls->async_handshake(asio::ssl::stream_base::client, [self = shared_from_this()](error_code e) {
      if (self->done_) return;
      if (e)
        return self->fail(Kind::Tls, "TLS handshake with " + self->where() + " failed: " +
                                         detail::tls_error_text(e, self->conn_->tls->native_handle()));
      ++self->client_.connects_;
      if (SSL_session_reused(self->conn_->tls->native_handle())) ++self->client_.resumed_;
      self->new_tls_ = true;
      self->write();
    });
  }

  // ---- exchange ----
  void write() {
    conn_->with_stream([&](auto& stream) {
      asio::async_write(stream, asio::buffer(wire_), [self = shared_from_this()](error_code ec, size_t) {
        if (self->done_) return;
        if (ec)
          return self->retry_or_fail(Kind::Protocol,
                                     "sending request to " + self->where() + ": " + ec.message());
        self->read();
      });
    });
  }

  void read() {
    resp_ = ClientResponse{};
    parser_.emplace(resp_, kMaxResponseHeader, HttpsClient::kMaxResponseBody);
    if (head_) parser_->skip(true);
    conn_->with_stream([&](auto& stream) {
      http::async_read(stream, buffer_, *parser_,
                       [self = shared_from_this()](error_code ec, size_t) { self->on_read(ec); });
    });
  }

  void on_read(error_code ec) {
    if (done_) return;
    if (ec == http::error::body_limit)
      return fail(Kind::Protocol, "response from " + where() + " exceeds " +
                                      std::to_string(HttpsClient::kMaxResponseBody) + " bytes");
    if (ec) {
      bool nothing_received = !parser_->got_some() && buffer_.size() == 0;
      std::string msg = "reading response from " + where() + ": " + ec.message();
      if (nothing_received) return retry_or_fail(Kind::Protocol, msg);
      return fail(Kind::Protocol, msg);
    }
    bool keep = parser_->keep_alive() && !parser_->need_eof() && buffer_.size() == 0;
    if (conn_->tls && new_tls_) client_.remember_session(key_, conn_->tls->native_handle());
    done_ = true;
    timer_.cancel();
    if (keep)
      client_.put(std::move(conn_));
    else
      conn_->close();
    promise_.set_value(std::move(resp_));
  }

  // A pooled connection the server closed meanwhile fails before any response byte: one fresh attempt.
  void retry_or_fail(Kind kind, const std::string& msg) {
    if (reused_ && !retried_ && std::chrono::steady_clock::now() < deadline_) {
      retried_ = true;
      conn_->close();
      buffer_.consume(buffer_.size());
      return connect();
    }
    fail(kind, msg);
  }

  void fail(Kind kind, const std::string& msg) {
    if (done_) return;
    done_ = true;
    ++client_.errors_;
    timer_.cancel();
    resolver_.cancel();
    if (conn_) conn_->close();  // pending operations complete with operation_aborted and see done_
    promise_.set_exception(std::make_exception_ptr(TransportError(kind, msg)));
  }

  Impl& client_;
  const Url url_;
  const std::string key_;
  const std::string wire_;
  const bool head_;
  const SteadyTime deadline_;
  asio::steady_timer timer_;
  tcp::resolver resolver_;
  std::promise<ClientResponse> promise_;
  std::unique_ptr<Conn> conn_;
  beast::flat_buffer buffer_;
  ClientResponse resp_;
  std::optional<detail::ResponseParser> parser_;
  uint64_t timer_gen_ = 0;
  bool connect_phase_ = false;
  bool reused_ = false;
  bool retried_ = false;
  bool new_tls_ = false;
  bool done_ = false;
};

ClientResponse HttpsClient::Impl::send(const ClientRequest& req) {
  if (ioc_.get_executor().running_in_this_thread())
    throw std::logic_error("HttpsClient::send called from the client's own I/O thread");
  Url url = parse_url(req.url);
  if (!token(req.method)) throw TransportError(Kind::Protocol, "invalid HTTP method");

  std::string wire;
  wire.reserve(256 + req.body.size());
  wire.append(req.method).append(" ").append(url.target).append(" HTTP/1.1\r\n");
  if (!req.headers.has("Host")) wire.append("Host: ").append(host_header(url)).append("\r\n");
  if (!req.headers.has("User-Agent") && !cfg_.user_agent.empty())
    wire.append("User-Agent: ").append(cfg_.user_agent).append("\r\n");
  for (const auto& [k, v] : req.headers.all()) {
    if (!token(k) || !safe_value(v))
      throw TransportError(Kind::Protocol, "invalid request header '" + k + "'");
    if (iequals(k, "Content-Length") || iequals(k, "Transfer-Encoding")) continue;
    wire.append(k).append(": ").append(v).append("\r\n");
  }
  bool body_method = req.method == "POST" || req.method == "PUT" || req.method == "PATCH";
  if (!req.body.empty() || body_method)
    wire.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
  wire.append("\r\n").append(req.body);

  // Within the deadline of the request this thread serves, if any (common/deadline.hpp).
  const Millis timeout = RequestDeadline::clamp(req.timeout);
  if (timeout.count() <= 0)
    throw TransportError(Kind::Timeout, "the request's deadline passed before the call to " + url.host + ":" +
                                            std::to_string(url.port) + " was made");
  auto call = std::make_shared<Call>(*this, std::move(url), std::move(wire), req.method == "HEAD", timeout);
  auto fut = call->future();
  asio::post(ioc_, [call] { call->start(); });
  call.reset();
  try {
    return fut.get();
  } catch (const std::future_error&) {
    throw TransportError(Kind::Connect, "the HTTP client is shutting down");
  }
}

HttpsClient::HttpsClient(ClientConfig cfg) : impl_(std::make_unique<Impl>(std::move(cfg))) {}
HttpsClient::~HttpsClient() = default;
ClientResponse HttpsClient::send(const ClientRequest& req) {
  return impl_->send(req);
}
void HttpsClient::set_ca_file(const std::string& ca_file) {
  impl_->set_ca_file(ca_file);
}

HttpsClient::Stats HttpsClient::stats() const {
  return impl_->stats();
}

}  // namespace dive::net
