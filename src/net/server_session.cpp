// One server connection: TLS handshake, keep-alive request loop, limits, timeouts and graceful close.
//
// Each session lives on one I/O thread (its socket's io_context), so its state needs no locks. Worker
// handlers run on the worker pool while the session waits (no socket operation is pending then) and the
// response is posted back to the session's thread.
//
// Timeouts use one steady_timer per connection with a lazily moved deadline: moving the deadline later only
// stores it (the timer fires early and re-arms), so a busy keep-alive connection does not touch the timer
// queue per request.
#include <utility>  // before Asio (Boost 1.74 with g++ 12)

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <array>
#include <charconv>
#include <optional>

#include "common/deadline.hpp"
#include "common/strings.hpp"
#include "net/request_parser.hpp"
#include "net/router.hpp"
#include "net/server_core.hpp"

namespace dive::net::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using PlainStream = tcp::socket;
using TlsStream = asio::ssl::stream<tcp::socket>;

namespace {

constexpr size_t kReadChunk = 16 * 1024;      // one TLS record of plaintext
constexpr size_t kInlineBodyMax = 16 * 1024;  // bodies up to this size are copied after the header
constexpr size_t kKeepCapacity = 64 * 1024;   // larger per-connection buffers are released after a request
constexpr size_t kDrainMax = 1024 * 1024;     // bytes read and discarded while closing a plain connection
constexpr Millis kDrainIdle{
    500};  // at stop: how long an idle keep-alive connection may still bring a request
constexpr Millis kCloseGrace{1000};  // TLS close_notify / lingering close / last error response

bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Header fields from handlers are checked so that a value can never split the response.
bool safe_header(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (char c : name)
    if (!token_char(c)) return false;
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

bool server_managed_header(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Connection") || iequals(name, "Server") || iequals(name, "X-Request-Id");
}

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

template <class Stream>
class Session final : public SessionBase {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... StreamArgs>
  Session(ServerCore& core, size_t io_index, tcp::socket socket, StreamArgs&&... args)
      : core_(core),
        io_index_(io_index),
        exec_(socket.get_executor()),
        stream_(std::move(socket), std::forward<StreamArgs>(args)...),
        timer_(exec_) {
    core_.connections.fetch_add(1, std::memory_order_relaxed);
    core_.metrics.connections().inc();
  }

  ~Session() override {
    core_.metrics.connections().dec();
    core_.connections.fetch_sub(1, std::memory_order_relaxed);
    if (id_) core_.remove_session(id_);
  }

  void set_id(uint64_t id) { id_ = id; }

  void start() {
    if (core_.stopping.load()) return close_hard();
    error_code ec;
    auto ep = socket().remote_endpoint(ec);
    if (!ec) remote_ip_ = ep.address().to_string();
    set_deadline(now() + core_.cfg.read_timeout);
    if constexpr (kTls) {
      phase_ = Phase::Handshake;
      stream_.async_handshake(asio::ssl::stream_base::server, [self = self()](error_code e) {
        if (self->phase_ == Phase::Closed) return;
        if (e) return self->close_hard();
        self->begin_request();
      });
    } else {
      begin_request();
    }
  }

  void request_stop() override {
    asio::post(exec_, [self = self()] { self->on_server_stop(); });
  }
  void request_close() override {
    asio::post(exec_, [self = self()] { self->close_hard(); });
  }
  void request_shed() override {
    asio::post(exec_, [self = self()] {
      if (self->phase_ == Phase::Waiting && !self->request_begun_ && !self->buffer_.size())
        self->close_hard();
    });
  }

 private:
  enum class Phase { Handshake, Waiting, Reading, Handling, Writing, Closing, Closed };

  std::shared_ptr<Session> self() { return std::static_pointer_cast<Session>(shared_from_this()); }
  static SteadyTime now() { return std::chrono::steady_clock::now(); }
  tcp::socket& socket() {
    if constexpr (kTls)
      return stream_.next_layer();
    else
      return stream_;
  }

  // ---- deadline ----

  void set_deadline(SteadyTime d) {
    deadline_ = d;
    if (timer_pending_ && timer_expiry_ <= d) return;  // fires early and re-arms for the new deadline
    arm(d);
  }
  void clear_deadline() { deadline_ = SteadyTime::max(); }

  void arm(SteadyTime at) {
    timer_expiry_ = at;
    timer_pending_ = true;
    timer_.expires_at(at);  // cancels a pending wait; the generation check below ignores it
    uint64_t gen = ++timer_gen_;
    timer_.async_wait([self = self(), gen](error_code ec) {
      if (ec || gen != self->timer_gen_) return;
      self->timer_pending_ = false;
      self->on_timer();
    });
  }

  void on_timer() {
    if (phase_ == Phase::Closed || deadline_ == SteadyTime::max()) return;
    auto t = now();
    if (t < deadline_) return arm(deadline_);
    if (timed_out_) return close_hard();  // the first timeout's cleanup did not finish in time
    timed_out_ = true;
    error_code ignored;
    socket().cancel(ignored);  // the pending operation completes with operation_aborted
    set_deadline(t + kCloseGrace);
  }

  // ---- reading ----

  void reset_request() {
    req_.method.clear();
    req_.target.clear();
    req_.path.clear();
    req_.query.clear();
    req_.params.clear();
    req_.headers.clear();
    if (req_.body.capacity() > kKeepCapacity)
      std::string().swap(req_.body);
    else
      req_.body.clear();
    req_.request_id.clear();
    req_.route.clear();
    req_.remote_ip = remote_ip_;
    head_ = false;
    continue_sent_ = false;
    reading_deadline_set_ = false;
    request_begun_ = false;
  }

  void begin_request() {
    if ((core_.stopping.load() || close_after_) && !drain_one_) return close_hard();
    if (drain_one_) {  // accepted before the stop: its first request is still answered (then it closes)
      drain_one_ = false;
      close_after_ = true;
      set_deadline(now() + kDrainIdle);
    }
    reset_request();
    parser_.emplace(req_, core_.cfg.max_header_bytes, core_.cfg.max_body_bytes);
    if (buffer_.size() > 0) {  // pipelined
      request_begun_ = true;
      request_start_ = now();
      phase_ = Phase::Reading;
      return parse();
    }
    if (buffer_.capacity() > kKeepCapacity) buffer_.shrink_to_fit();
    phase_ = Phase::Waiting;
    idle_since_ns.store(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now().time_since_epoch()).count(),
        std::memory_order_relaxed);
    do_read();
  }

  void do_read() {
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = self()](error_code ec, size_t n) { self->on_read(ec, n); });
  }

  void on_read(error_code ec, size_t n) {
    if (phase_ == Phase::Closed) return;
    if (ec) {
      if (timed_out_ && request_begun_)
        return send_error(408, "request_timeout", "the request was not received in time");
      return close_hard();
    }
    buffer_.commit(n);
    idle_since_ns.store(0, std::memory_order_relaxed);
    if (!request_begun_) {
      request_begun_ = true;
      request_start_ = now();
      phase_ = Phase::Reading;
    }
    parse();
  }

  void need_more() {
    if (!reading_deadline_set_) {  // the request did not arrive in one read: bound the time to get the rest
      reading_deadline_set_ = true;
      set_deadline(request_start_ + core_.cfg.read_timeout);
    }
    if (parser_->is_header_done() && parser_->expect_continue() && !continue_sent_) return send_continue();
    do_read();
  }

  void parse() {
    for (;;) {
      if (buffer_.size() == 0) return need_more();
      error_code ec;
      size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (ec == http::error::need_more) return need_more();
      if (ec) return on_parse_error(ec);
      if (parser_->is_done()) return dispatch();
      if (used == 0) return need_more();
    }
  }

  void send_continue() {
    continue_sent_ = true;
    static constexpr std::string_view k100 = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(stream_, asio::buffer(k100.data(), k100.size()),
                      [self = self()](error_code ec, size_t) {
                        if (self->phase_ == Phase::Closed) return;
                        if (ec) return self->close_hard();
                        self->do_read();
                      });
  }

  void on_parse_error(error_code ec) {
    if (ec == http::error::header_limit)
      return send_error(431, "request_header_fields_too_large",
                        "request headers exceed " + std::to_string(core_.cfg.max_header_bytes) + " bytes");
    if (ec == http::error::body_limit)
      return send_error(core_.cfg.body_limit_status, "payload_too_large",
                        "request body exceeds " + std::to_string(core_.cfg.max_body_bytes) + " bytes");
    spdlog::debug("{}: malformed request from {}: {}", core_.cfg.service, remote_ip_, ec.message());
    send_error(400, "bad_request", "malformed HTTP request");
  }

  // An error answered before (or instead of) routing; the connection closes after it.
  void send_error(int status, std::string code, std::string message) {
    keep_alive_ = false;
    head_ = false;
    if (req_.request_id.empty()) req_.request_id = generate_request_id();
    req_.route.clear();
    respond(error(status, code, message));
  }

  Response error(int status, const std::string& code, const std::string& message) const {
    if (core_.cfg.error_response) return core_.cfg.error_response(status, code, message, req_.request_id);
    return Response::error(status, code, message, req_.request_id);
  }

  // ---- handling ----

  void dispatch() {
    phase_ = Phase::Handling;
    clear_deadline();
    keep_alive_ = parser_->keep_alive() && !close_after_ && !core_.stopping.load();
    head_ = req_.method == "HEAD";
    if (req_.request_id.empty()) req_.request_id = generate_request_id();
    const Router& router = *core_.router;
    auto m = router.match(req_.method, parser_->raw_path());
    if (!m.handler) {
      if (m.path_exists) {
        Response r =
            error(405, "method_not_allowed", "method " + req_.method + " is not allowed on this path");
        r.headers.set("Allow", join(router.allowed_methods(parser_->raw_path()), ", "));
        return respond(std::move(r));
      }
      return respond(error(404, "not_found", "no route for " + req_.method + " " + req_.path.substr(0, 200)));
    }
    req_.route = std::move(m.pattern);
    req_.params = std::move(m.params);
    const Handler* h = m.handler;
    if (m.exec == Exec::Inline) return respond(run_handler(*h));
    asio::post(*core_.workers, [self = self(), h] {
      Response r = self->run_handler(*h);
      asio::post(self->exec_, [self, r = std::move(r)]() mutable { self->respond(std::move(r)); });
    });
  }

  Response run_handler(const Handler& h) {
    RequestDeadline::Scope deadline(
        core_.cfg.request_deadline.count() > 0
            ? std::optional<SteadyTime>(request_start_ + core_.cfg.request_deadline)
            : std::nullopt);
    try {
      return h(req_);
    } catch (const std::exception& e) {
      spdlog::error("{}: handler {} {} failed (request {}): {}", core_.cfg.service, req_.method, req_.route,
                    req_.request_id, e.what());
    } catch (...) {
      spdlog::error("{}: handler {} {} failed (request {}): unknown exception", core_.cfg.service,
                    req_.method, req_.route, req_.request_id);
    }
    return error(500, "internal_error", "internal server error");
  }

  // ---- writing ----

  void respond(Response&& r) {
    if (phase_ == Phase::Closed) return;
    keep_alive_ = keep_alive_ && !close_after_ && !core_.stopping.load();  // stop() may have begun meanwhile
    if (r.status < 200 || r.status > 999) r.status = 500;                  // 1xx cannot be a final response
    core_.metrics.record(io_index_, req_.route, req_.method, r.status,
                         seconds_between(request_start_, now()));
    serialize(r);
    phase_ = Phase::Writing;
    if (!timed_out_) set_deadline(now() + core_.cfg.read_timeout);  // a slow reader gets no longer than that
    auto on_write = [self = self()](error_code ec, size_t) { self->on_write(ec); };
    if (out_body_.empty())
      asio::async_write(stream_, asio::buffer(out_), std::move(on_write));
    else
      asio::async_write(stream_, std::array{asio::buffer(out_), asio::buffer(out_body_)},
                        std::move(on_write));
  }

  void serialize(Response& r) {
    out_.clear();
    out_.append("HTTP/1.1 ");
    append_number(out_, static_cast<uint64_t>(r.status));
    out_.push_back(' ');
    out_.append(status_reason(r.status));
    out_.append("\r\nServer: dive\r\n");
    for (const auto& [k, v] : r.headers.all()) {
      if (server_managed_header(k)) {
        if (iequals(k, "Connection") && iequals(v, "close"))
          keep_alive_ = false;  // a handler may ask to close
        continue;
      }
      if (!safe_header(k, v)) {
        spdlog::warn("{}: dropped an invalid response header from route {}", core_.cfg.service, req_.route);
        continue;
      }
      out_.append(k).append(": ").append(v).append("\r\n");
    }
    for (const auto& [k, v] : core_.cfg.default_headers.all())
      if (!server_managed_header(k) && !r.headers.has(k) && safe_header(k, v))
        out_.append(k).append(": ").append(v).append("\r\n");
    out_.append("X-Request-Id: ").append(req_.request_id).append("\r\n");
    bool no_body = r.status == 204 || r.status == 304;
    if (!no_body) {
      out_.append("Content-Length: ");
      append_number(out_, r.body.size());
      out_.append("\r\n");
    }
    if (!keep_alive_)
      out_.append("Connection: close\r\n");
    else if (parser_ && parser_->version() == 10)
      out_.append("Connection: keep-alive\r\n");
    out_.append("\r\n");
    if (no_body || head_) return;
    if (r.body.size() <= kInlineBodyMax)
      out_.append(r.body);
    else
      out_body_ = std::move(r.body);
  }

  void on_write(error_code ec) {
    if (phase_ == Phase::Closed) return;
    if (out_body_.capacity() > 0) std::string().swap(out_body_);
    if (out_.capacity() > kKeepCapacity) std::string().swap(out_);
    if (ec) return close_hard();
    if (timed_out_ || !keep_alive_) return graceful_close();
    set_deadline(now() + core_.cfg.idle_timeout);
    begin_request();
  }

  // ---- closing ----

  // The server stops (a graceful restart hands the socket to a new process): every connection gets one more
  // answer at most, with "Connection: close". One in its TLS handshake or idle between requests has
  // kDrainIdle to bring that request (a client that sent it as we stopped is served, not reset), and is
  // closed after it; the request in progress, if any, is answered and then the connection closes.
  void on_server_stop() {
    if (phase_ == Phase::Closed) return;
    close_after_ = true;
    if (phase_ == Phase::Handshake) {
      drain_one_ = true;
    } else if (phase_ == Phase::Waiting && !request_begun_) {
      set_deadline(now() + kDrainIdle);
    }
  }

  // After the last response: TLS close_notify, or a lingering close for plain TCP so that unread request
  // bytes do not turn our FIN into a reset that could destroy the response before the client reads it.
  void graceful_close() {
    phase_ = Phase::Closing;
    set_deadline(now() + std::min(core_.cfg.read_timeout, kCloseGrace));
    if constexpr (kTls) {
      stream_.async_shutdown([self = self()](error_code ec) {
        if (self->phase_ == Phase::Closed) return;
        if (!ec || self->timed_out_) return self->close_hard();
        // The client is still sending (the rest of a body we refused): discard what it sends for a while,
        // as for plain TCP, so that unread bytes do not turn our close into a reset that destroys the
        // error response before the client has read it.
        error_code ignored;
        self->socket().shutdown(tcp::socket::shutdown_send, ignored);
        self->drained_ = 0;
        self->drain();
      });
    } else {
      error_code ignored;
      socket().shutdown(tcp::socket::shutdown_send, ignored);
      drained_ = 0;
      drain();
    }
  }

  // Reads and discards raw bytes (under TLS too: the session is over) until EOF, kDrainMax or the deadline.
  void drain() {
    buffer_.consume(buffer_.size());
    socket().async_read_some(buffer_.prepare(kReadChunk), [self = self()](error_code ec, size_t n) {
      if (self->phase_ == Phase::Closed) return;
      self->drained_ += n;
      if (ec || self->drained_ > kDrainMax) return self->close_hard();
      self->drain();
    });
  }

  void close_hard() {
    if (phase_ == Phase::Closed) return;
    if constexpr (kTls) {
      // Closing an idle connection or ending a finished exchange is routine: keep its TLS session resumable
      // (OpenSSL drops sessions of connections freed without a shutdown).
      if (phase_ == Phase::Waiting || phase_ == Phase::Closing)
        SSL_set_shutdown(stream_.native_handle(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    }
    phase_ = Phase::Closed;
    idle_since_ns.store(0, std::memory_order_relaxed);
    ++timer_gen_;
    timer_.cancel();
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  ServerCore& core_;
  const size_t io_index_;
  const asio::any_io_executor exec_;
  Stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  Request req_;
  std::string out_, out_body_;
  std::string remote_ip_;
  uint64_t id_ = 0;

  Phase phase_ = Phase::Waiting;
  bool request_begun_ = false;
  bool reading_deadline_set_ = false;
  bool continue_sent_ = false;
  bool keep_alive_ = true;
  bool drain_one_ = false;  // stopped during the handshake: answer its first request, then close
  bool head_ = false;
  bool close_after_ = false;
  bool timed_out_ = false;
  size_t drained_ = 0;
  SteadyTime request_start_{};

  SteadyTime deadline_ = SteadyTime::max();
  SteadyTime timer_expiry_{};
  bool timer_pending_ = false;
  uint64_t timer_gen_ = 0;
};

void start_session(ServerCore& core, size_t io_index, tcp::socket socket, asio::ssl::context* tls) {
  auto exec = socket.get_executor();
  if (tls) {
    auto s = std::make_shared<Session<TlsStream>>(core, io_index, std::move(socket), *tls);
    s->set_id(core.add_session(s));
    asio::post(exec, [s] { s->start(); });
  } else {
    auto s = std::make_shared<Session<PlainStream>>(core, io_index, std::move(socket));
    s->set_id(core.add_session(s));
    asio::post(exec, [s] { s->start(); });
  }
}

}  // namespace dive::net::detail
