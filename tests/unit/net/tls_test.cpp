// TLS: verification (CA, hostname/IP), protocol versions, session resumption, handshake timeout, and the
// server and client working together over real TLS.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "net/router.hpp"
#include "server_fixture.hpp"
#include "servers.hpp"
#include "test_util.hpp"

using namespace dive;
using namespace dive::net;
using namespace dive::net::testing;
using namespace std::chrono_literals;
using dive::testing::wait_until;

namespace {

void add_routes(Router& r) {
  r.add(
      "GET", "/hello",
      [](Request& req) {
        return Response::json(200, Json{{"hello", req.remote_ip}});
      },
      Exec::Inline);
  r.add("POST", "/echo", [](Request& req) { return Response::text(200, req.body); });
}

TransportError::Kind send_kind(HttpsClient& c, const ClientRequest& r, std::string* what = nullptr) {
  try {
    c.send(r);
  } catch (const TransportError& e) {
    if (what) *what = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "request to " << r.url << " succeeded";
  return TransportError::Kind::BadUrl;
}

// A blocking OpenSSL client for what HttpsClient does not expose (versions, resumption).
struct RawTls {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  int fd = -1;
  RawTls(uint16_t port, int min_version, int max_version, SSL_SESSION* resume = nullptr) {
    ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_security_level(ctx, 0);  // let the client offer old versions: the server must refuse them
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx, min_version);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("connect");
    timeval tv{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (resume) SSL_set_session(ssl, resume);
  }
  ~RawTls() {
    if (SSL_is_init_finished(ssl)) SSL_shutdown(ssl);  // a clean end keeps the session resumable
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    ::close(fd);
  }
  bool handshake() {
    bool ok = SSL_connect(ssl) == 1;
    ERR_clear_error();
    return ok;
  }
  // One GET; returns the raw bytes of the response (small responses: one read is enough in practice, so
  // read until the body length is reached).
  std::string get(const std::string& path) {
    std::string req = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    if (SSL_write(ssl, req.data(), static_cast<int>(req.size())) <= 0) return "";
    std::string out;
    char buf[4096];
    while (true) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      auto end = out.find("\r\n\r\n");
      auto cl = out.find("Content-Length: ");
      if (end != std::string::npos && cl != std::string::npos &&
          out.size() >= end + 4 + std::stoul(out.substr(cl + 16)))
        break;
    }
    return out;
  }
};

}  // namespace

TEST(Tls, KeepAliveReuseWithVerification) {
  TestServer s;
  add_routes(*s.router);
  s.start(tls_config());
  HttpsClient client(trusting_client());
  for (int i = 0; i < 10; ++i) {
    auto r = client.send(get(s.url("/hello")));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.json()["hello"], "127.0.0.1");
  }
  for (int i = 0; i < 5; ++i) ASSERT_EQ(client.send(get(s.url("/hello", "localhost"))).status, 200);
  auto st = client.stats();
  EXPECT_EQ(st.connects, 2u);  // one per (scheme, host, port)
  EXPECT_EQ(st.reuses, 13u);
  EXPECT_EQ(st.idle, 2u);
}

TEST(Tls, UntrustedCertificateIsATlsError) {
  TestServer s;
  add_routes(*s.router);
  auto cfg = tls_config();
  cfg.cert_file = test_pki().untrusted_cert;
  cfg.key_file = test_pki().untrusted_key;
  s.start(cfg);
  HttpsClient client(trusting_client());
  std::string what;
  EXPECT_EQ(send_kind(client, get(s.url("/hello")), &what), TransportError::Kind::Tls);
  EXPECT_NE(what.find("certificate verify failed"), std::string::npos) << what;
  EXPECT_EQ(client.stats().errors, 1u);

  ClientConfig lax;
  lax.verify = false;  // tests may switch verification off; production code never does
  HttpsClient insecure(lax);
  EXPECT_EQ(insecure.send(get(s.url("/hello"))).status, 200);
}

TEST(Tls, HostnameMismatchIsATlsError) {
  TestServer s;
  add_routes(*s.router);
  auto cfg = tls_config();
  cfg.cert_file = test_pki().other_host_cert;  // valid chain, but only for other.example
  cfg.key_file = test_pki().other_host_key;
  s.start(cfg);
  HttpsClient client(trusting_client());
  std::string what;
  EXPECT_EQ(send_kind(client, get(s.url("/hello")), &what), TransportError::Kind::Tls);
  EXPECT_NE(what.find("mismatch"), std::string::npos) << what;
  EXPECT_EQ(send_kind(client, get(s.url("/hello", "localhost"))), TransportError::Kind::Tls);
}

TEST(Tls, SchemeMismatchesFail) {
  TestServer tls;
  add_routes(*tls.router);
  tls.start(tls_config());
  TestServer plain;
  add_routes(*plain.router);
  plain.start(plain_config());
  HttpsClient client(trusting_client());
  // https to a plain server: the handshake fails.
  EXPECT_EQ(send_kind(client, get("https://127.0.0.1:" + std::to_string(plain.port()) + "/hello")),
            TransportError::Kind::Tls);
  // http to a TLS server: no HTTP response comes back.
  EXPECT_EQ(send_kind(client, get("http://127.0.0.1:" + std::to_string(tls.port()) + "/hello")),
            TransportError::Kind::Protocol);
}

TEST(Tls, OldProtocolVersionsAreRefused) {
  TestServer s;
  add_routes(*s.router);
  s.start(tls_config());
  {
    RawTls old(s.port(), TLS1_VERSION, TLS1_1_VERSION);
    EXPECT_FALSE(old.handshake());
  }
  for (int v : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    RawTls ok(s.port(), v, v);
    ASSERT_TRUE(ok.handshake()) << v;
    EXPECT_EQ(SSL_version(ok.ssl), v);
    EXPECT_NE(ok.get("/hello").find("200 OK"), std::string::npos);
  }
}

TEST(Tls, SessionsAreResumed) {
  TestServer s;
  add_routes(*s.router);
  s.start(tls_config());
  for (int v : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    SSL_SESSION* session = nullptr;
    {
      RawTls first(s.port(), v, v);
      ASSERT_TRUE(first.handshake());
      ASSERT_NE(first.get("/hello").find("200 OK"), std::string::npos);  // TLS 1.3 tickets arrive with it
      session = SSL_get1_session(first.ssl);
      ASSERT_NE(session, nullptr);
      EXPECT_EQ(SSL_session_reused(first.ssl), 0);
    }
    {
      RawTls second(s.port(), v, v, session);
      ASSERT_TRUE(second.handshake());
      EXPECT_EQ(SSL_session_reused(second.ssl), 1) << "version " << v;
      EXPECT_NE(second.get("/hello").find("200 OK"), std::string::npos);
    }
    SSL_SESSION_free(session);
  }
}

TEST(Tls, ClientResumesSessions) {
  TestServer s;
  add_routes(*s.router);
  s.start(tls_config());
  HttpsClient client(trusting_client());
  for (int i = 0; i < 3; ++i) {
    auto r = get(s.url("/hello"));
    r.headers.set("Connection", "close");  // every call needs a new connection
    ASSERT_EQ(client.send(r).status, 200);
  }
  auto st = client.stats();
  EXPECT_EQ(st.connects, 3u);
  EXPECT_EQ(st.resumed, 2u);
}

TEST(Tls, StalledHandshakeIsClosedAfterReadTimeout) {
  TestServer s;
  add_routes(*s.router);
  auto cfg = tls_config();
  cfg.read_timeout = 300ms;
  s.start(cfg);
  RawConn c(s.port());
  ASSERT_TRUE(c.send(std::string("\x16\x03\x01\x02\x00", 5)));  // the start of a ClientHello, then nothing
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.wait_closed(3000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 200ms);
  EXPECT_TRUE(wait_until([&] { return s.active_connections() == 0; }, 2000ms, 10ms));
}

TEST(Tls, ErrorsAndLimitsOverTls) {
  TestServer s;
  add_routes(*s.router);
  auto cfg = tls_config();
  cfg.max_body_bytes = 1024;
  s.start(cfg);
  HttpsClient client(trusting_client());
  auto big = post(s.url("/echo"), std::string(4096, 'x'));
  auto r = client.send(big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"], "payload_too_large");
  EXPECT_EQ(client.send(post(s.url("/echo"), "small")).body, "small");
  EXPECT_EQ(client.send(get(s.url("/missing"))).status, 404);
  EXPECT_EQ(client.stats().connects, 2u);  // the 413 closed the first connection
}

TEST(Tls, AnOversizedBodyStillBeingSentGetsItsErrorResponseNotAReset) {
  ::signal(SIGPIPE, SIG_IGN);
  TestServer s;
  add_routes(*s.router);
  auto cfg = tls_config();
  cfg.max_body_bytes = 1024;
  s.start(cfg);
  // The server refuses the request on its headers while the body is still arriving (more than the socket
  // buffers hold): it must take in what the client is still sending (up to a bound) instead of resetting the
  // connection, so that the client finishes its write and reads the 413.
  int written = 0, answered = 0;
  std::string last;
  for (int i = 0; i < 5; ++i) {
    RawTls c(s.port(), TLS1_2_VERSION, TLS1_3_VERSION);
    ASSERT_TRUE(c.handshake());
    const std::string req = "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2097152\r\n\r\n" +
                            std::string(768 * 1024, 'x');
    written += SSL_write(c.ssl, req.data(), static_cast<int>(req.size())) == static_cast<int>(req.size());
    last.clear();
    char buf[4096];
    for (int n; (n = SSL_read(c.ssl, buf, sizeof buf)) > 0;) last.append(buf, static_cast<size_t>(n));
    answered += last.rfind("HTTP/1.1 413", 0) == 0;
  }
  EXPECT_EQ(written, 5) << "the server reset the connection while the client was sending";
  EXPECT_EQ(answered, 5) << "last answer: " << last;
}

TEST(Tls, ConcurrentTlsClients) {
  TestServer s;
  add_routes(*s.router);
  s.start(tls_config());
  HttpsClient client(trusting_client());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        std::string body = std::to_string(t * 1000 + i);
        auto r = client.send(post(s.url("/echo"), body));
        if (r.status == 200 && r.body == body) ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 800);
  EXPECT_EQ(client.stats().errors, 0u);
  EXPECT_EQ(s.counter("/echo", "POST", "200"), 800.0);
}

TEST(Tls, BadCertificateFilesFailAtStart) {
  auto router = std::make_shared<Router>();
  metrics::Registry registry;
  auto cfg = tls_config();
  cfg.cert_file = "/nonexistent/cert.pem";
  HttpServer s(cfg, router, &registry);
  try {
    s.start();
    FAIL() << "started without a certificate";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
  }
  auto mismatched = tls_config();
  mismatched.key_file = test_pki().other_host_key;
  HttpServer m(mismatched, router, &registry);
  EXPECT_THROW(m.start(), std::runtime_error);

  ClientConfig cc;
  cc.ca_file = "/nonexistent/ca.pem";
  EXPECT_THROW(HttpsClient{cc}, std::runtime_error);
}
