#pragma once
// HTTPS (or plain HTTP on loopback) server: HTTP/1.1 keep-alive, size and time limits, request ids, JSON
// errors, metrics and graceful shutdown. Boost stays behind the pimpl so that this header compiles fast.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "metrics/registry.hpp"
#include "net/http.hpp"
#include "net/router.hpp"

namespace dive::net {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: ephemeral, see port()
  // A listening socket handed over by the supervisor (docs/ORCHESTRATION.md, "Graceful restarts"): when >= 0
  // the server accepts on it instead of binding host:port, and closing it at stop() leaves the socket (and
  // its queue of connections not yet accepted) to the process that shares it. Must be a listening TCP socket.
  int inherited_fd = -1;
  std::string cert_file, key_file;  // both empty: plain HTTP (standalone pdp on 127.0.0.1); else TLS 1.2+
  std::string service = "dive";     // metrics label
  int io_threads = 0;               // 0: std::thread::hardware_concurrency()
  // Handlers that may block (database, pdp, partners) run on this many threads; 0: four per core, at least
  // 4 (default_worker_threads()). More is slower, not faster, on few cores: docs/PERFORMANCE.md measured 16
  // workers on 2 cores at p99 25-90 ms against 5-10 ms with 4-8, at fewer reads/s.
  int worker_threads = 0;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  Millis read_timeout{10000};  // to receive one whole request once it has started (and for the TLS handshake)
  Millis idle_timeout{60000};  // keep-alive connection idle between requests
  // A handler's dependency calls are clamped to this, counted from the request's first byte
  // (common/deadline.hpp); 0: no deadline.
  Millis request_deadline{0};
  // The connection cap (kept below the open-file limit with a reserve for outbound connections by the
  // service that sets it). From shed_idle_at * max_connections on, each new connection makes the server
  // close the longest-idle keep-alive connection (one that waits for its next request), so that clients
  // with work to do are served before idle ones; at the cap a new connection is accepted only when an idle
  // one could be shed, else it is closed at once.
  size_t max_connections = 10000;
  double shed_idle_at = 0.9;
  // Status for a body over max_body_bytes (413 by default; an API whose contract says 400 sets 400).
  int body_limit_status = 413;
  // Renders the server's own error responses (no route, wrong method, limits, malformed HTTP, handler
  // exception). Default: Response::error's {"error","message","requestId"}; a service speaking another
  // protocol (the pdp: OPA's {"code","message"}) supplies its own.
  std::function<Response(int status, const std::string& code, const std::string& message,
                         const std::string& request_id)>
      error_response;
  // Added to every response this server writes (a route's, its own errors, the limits' 400/408/413/431,
  // a handler's exception) unless the response sets that field itself: a service's security headers
  // (web/security_headers.hpp). Fields the server manages (Content-Length, Connection, ...) are ignored.
  Headers default_headers;
};

// The handler threads of a server whose worker_threads is 0: four per core, at least 4.
int default_worker_threads();

// Thread-safe: start(), stop() and wait() may be called from any thread but a handler or an I/O thread
// (the state under a mutex: a second stop() waits for the first; wait() blocks until stopped). Handlers
// run on the worker pool and must be thread-safe themselves.
class HttpServer {
 public:
  HttpServer(ServerConfig cfg, std::shared_ptr<const Router> router,
             metrics::Registry* registry = &metrics::Registry::global());
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and serves on background threads. Throws std::runtime_error, e.g.
  // "cannot listen on 127.0.0.1:4000: Address already in use", or when the certificate cannot be loaded.
  void start();
  uint16_t port() const;  // the bound port (after start)
  // Stops accepting; in-flight requests finish (up to grace, then their connections are closed); idle
  // keep-alive connections are closed; threads are joined. Idempotent; a second caller waits for the first.
  // Must not be called from a handler.
  void stop(Millis grace = Millis(5000));
  void wait();  // blocks until stop() has completed

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dive::net
