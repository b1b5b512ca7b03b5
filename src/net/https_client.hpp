#pragma once
// HTTPS (and HTTP) client with a per-host keep-alive pool, per-call deadlines and TLS verification against
// our CA. Boost stays behind the pimpl so that this header compiles fast.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "net/http.hpp"
#include "net/transport_error.hpp"
#include "net/url.hpp"

namespace dive::net {

struct ClientConfig {
  std::string ca_file;  // PEM bundle to verify servers against (our mkcert CA); empty: system default paths
  bool verify = true;   // peer + hostname verification (never disable in production code; tests may)
  Millis connect_timeout{2000};
  size_t max_idle_per_host = 16;
  Millis idle_ttl{30000};  // idle pooled connections older than this are closed, not reused
  std::string user_agent = "dive";
};

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // https://host:port/path?query  (http:// also supported)
  Headers headers;
  std::string body;
  Millis timeout{5000};  // deadline for the whole call: connect + TLS + write + read
};

struct ClientResponse {
  int status = 0;
  Headers headers;
  std::string body;
  Json json() const;  // parses body; throws std::invalid_argument on malformed JSON
};

class HttpTransport {  // small interface so callers can be unit-tested with a fake
 public:
  virtual ~HttpTransport() = default;
  virtual ClientResponse send(const ClientRequest& req) = 0;  // throws TransportError
};

// Connections are pooled per (scheme, host, port) and reused most-recent-first; a reused connection that
// fails before any response byte arrived is retried once on a fresh connection. One background I/O thread
// runs all calls; send() blocks its caller until the response, an error or the deadline. Responses over
// 64 MiB are a Protocol error. TLS sessions are resumed for new connections to a host already seen.
// Thread-safe without a lock: callers on any thread post their calls to the I/O thread, which alone
// touches the pool, the TLS context and the session cache; the counters are atomics.
class HttpsClient final : public HttpTransport {
 public:
  // An explicit ca_file is loaded here (std::runtime_error when it cannot be); the system store (empty
  // ca_file) is loaded on the first https call, as it costs tens of milliseconds.
  explicit HttpsClient(ClientConfig cfg);
  ~HttpsClient() override;
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  ClientResponse send(const ClientRequest& req) override;  // thread-safe; blocking for the caller
  // Verifies servers against another PEM bundle from now on (a federation's CA set changed). Throws
  // std::runtime_error, keeping the current one, when the file cannot be loaded. Thread-safe; never call
  // it from the client's own I/O thread.
  void set_ca_file(const std::string& ca_file);

  struct Stats {
    uint64_t connects = 0, reuses = 0, errors = 0;
    size_t idle = 0;
    uint64_t resumed = 0;  // new TLS connections that resumed an earlier session (abbreviated handshake)
  };
  Stats stats() const;

  static constexpr size_t kMaxResponseBody = 64u * 1024 * 1024;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dive::net
