// HttpsClient: error kinds, deadlines, pool behaviour (reuse, retry of a stale connection, TTL, limits,
// Connection: close) and response framing, partly against scripted raw servers.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <future>
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
using Kind = TransportError::Kind;

namespace {

Kind kind_of(HttpsClient& c, const ClientRequest& r, std::string* what = nullptr) {
  try {
    c.send(r);
  } catch (const TransportError& e) {
    if (what) *what = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "request to " << r.url << " succeeded";
  return Kind::BadUrl;
}

std::string ok_response(const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

std::string plain_url(uint16_t port, const std::string& path = "/") {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

}  // namespace

TEST(HttpsClient, ConnectionRefusedIsConnect) {
  HttpsClient client(ClientConfig{});
  uint16_t port = dive::testing::free_port();
  std::string what;
  EXPECT_EQ(kind_of(client, get(plain_url(port)), &what), Kind::Connect);
  EXPECT_NE(what.find("refused"), std::string::npos) << what;
  EXPECT_EQ(kind_of(client, get("https://127.0.0.1:" + std::to_string(port) + "/")), Kind::Connect);
  EXPECT_EQ(client.stats().errors, 2u);
}

TEST(HttpsClient, BadUrlAndBadHeaders) {
  HttpsClient client(ClientConfig{});
  EXPECT_EQ(kind_of(client, get("not a url")), Kind::BadUrl);
  EXPECT_EQ(kind_of(client, get("gopher://x/")), Kind::BadUrl);
  auto r = get(plain_url(1));
  r.headers.set("X-Bad", "a\r\nInjected: 1");
  EXPECT_EQ(kind_of(client, r), Kind::Protocol);
  auto m = get(plain_url(1));
  m.method = "GET /x";
  EXPECT_EQ(kind_of(client, m), Kind::Protocol);
}

TEST(HttpsClient, DeadlineCoversTheWholeCall) {
  std::promise<void> release;  // declared before the server: the handler uses it until the server stops
  auto released = release.get_future().share();
  TestServer s;
  s.router->add("GET", "/slow", [&](Request&) {
    released.wait_for(5s);
    return Response::text(200, "late");
  });
  s.start(plain_config());
  HttpsClient client(ClientConfig{});
  auto t0 = std::chrono::steady_clock::now();
  std::string what;
  EXPECT_EQ(kind_of(client, get(s.url("/slow"), 200ms), &what), Kind::Timeout);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 150ms);
  EXPECT_LT(took, 1500ms);
  EXPECT_EQ(client.stats().idle, 0u);  // a timed-out connection is never pooled
  release.set_value();
}

TEST(HttpsClient, DeadlineCoversAStalledTlsHandshake) {
  ScriptedServer stalled([](int fd, int) {
    char buf[1024];
    ::recv(fd, buf, sizeof buf, 0);  // read the ClientHello, answer nothing
    ScriptedServer::read_request(fd, 2000ms);
  });
  HttpsClient client(trusting_client());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of(client, get("https://127.0.0.1:" + std::to_string(stalled.port()) + "/", 300ms)),
            Kind::Timeout);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
}

TEST(HttpsClient, StaleReusedConnectionIsRetriedOnce) {
  // Connection 0 answers one request, then reads the next and closes without answering (as a server
  // whose idle timer fires just as the request arrives). Connection 1 answers normally.
  ScriptedServer srv([](int fd, int n) {
    ScriptedServer::read_request(fd);
    if (n == 0) {
      ScriptedServer::write_all(fd, ok_response("first"));
      ScriptedServer::read_request(fd);
      return;  // closed unanswered
    }
    ScriptedServer::write_all(fd, ok_response("fresh"));
    ScriptedServer::read_request(fd, 1000ms);
  });
  HttpsClient client(ClientConfig{});
  EXPECT_EQ(client.send(get(plain_url(srv.port()))).body, "first");
  EXPECT_EQ(client.send(get(plain_url(srv.port()))).body, "fresh");
  auto st = client.stats();
  EXPECT_EQ(st.connects, 2u);
  EXPECT_EQ(st.reuses, 1u);
  EXPECT_EQ(st.errors, 0u);
}

TEST(HttpsClient, FreshConnectionFailureIsNotRetried) {
  ScriptedServer srv([](int fd, int) { ScriptedServer::read_request(fd); });  // reads, closes, no answer
  HttpsClient client(ClientConfig{});
  EXPECT_EQ(kind_of(client, get(plain_url(srv.port()))), Kind::Protocol);
  EXPECT_EQ(srv.accepted(), 1);
}

TEST(HttpsClient, ConnectionClosedByServerIsNotReused) {
  TestServer s;
  s.router->add(
      "GET", "/x", [](Request&) { return Response::text(200, "x"); }, Exec::Inline);
  auto cfg = plain_config();
  cfg.idle_timeout = 200ms;
  s.start(cfg);
  HttpsClient client(ClientConfig{});
  EXPECT_EQ(client.send(get(s.url("/x"))).status, 200);
  ASSERT_TRUE(wait_until([&] { return s.active_connections() == 0; }, 3000ms, 10ms));
  EXPECT_EQ(client.send(get(s.url("/x"))).status, 200);
  auto st = client.stats();
  EXPECT_EQ(st.connects, 2u);
  EXPECT_EQ(st.errors, 0u);
}

TEST(HttpsClient, ConnectionCloseResponsesAreNotPooled) {
  ScriptedServer srv([](int fd, int) {
    ScriptedServer::read_request(fd);
    ScriptedServer::write_all(fd, ok_response("bye", "Connection: close\r\n"));
  });
  HttpsClient client(ClientConfig{});
  EXPECT_EQ(client.send(get(plain_url(srv.port()))).body, "bye");
  EXPECT_EQ(client.stats().idle, 0u);
  EXPECT_EQ(client.send(get(plain_url(srv.port()))).body, "bye");
  EXPECT_EQ(client.stats().connects, 2u);
  EXPECT_EQ(client.stats().reuses, 0u);

  TestServer s;  // a request with Connection: close gets its connection closed, not pooled
  s.router->add(
      "GET", "/x", [](Request&) { return Response::text(200, "x"); }, Exec::Inline);
  s.start(plain_config());
  auto r = get(s.url("/x"));
  r.headers.set("Connection", "close");
  EXPECT_EQ(client.send(r).headers.get("Connection"), "close");
  EXPECT_EQ(client.stats().idle, 0u);
}

TEST(HttpsClient, ResponseFraming) {
  ScriptedServer srv([](int fd, int n) {
    std::string req = ScriptedServer::read_request(fd);
    if (n == 0) {  // chunked, then a HEAD answer with a length but no body, on one connection
      ScriptedServer::write_all(fd,
                                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\nX-A: 2\r\n\r\n"
                                "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
      ScriptedServer::read_request(fd);
      ScriptedServer::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n");
      ScriptedServer::read_request(fd, 1000ms);
    } else {  // no length: the body runs to EOF
      ScriptedServer::write_all(fd, "HTTP/1.1 200 OK\r\n\r\nuntil-eof");
    }
  });
  HttpsClient client(ClientConfig{});
  auto r = client.send(get(plain_url(srv.port())));
  EXPECT_EQ(r.body, "hello world");
  ASSERT_EQ(r.headers.all().size(), 3u);
  EXPECT_EQ(r.headers.all()[1], (std::pair<std::string, std::string>("X-A", "1")));
  auto head = get(plain_url(srv.port()));
  head.method = "HEAD";
  auto h = client.send(head);
  EXPECT_EQ(h.status, 200);
  EXPECT_TRUE(h.body.empty());
  EXPECT_EQ(client.stats().reuses, 1u);

  HttpsClient other(ClientConfig{});
  auto e = other.send(get(plain_url(srv.port())));
  EXPECT_EQ(e.body, "until-eof");
  EXPECT_EQ(other.stats().idle, 0u);
}

TEST(HttpsClient, OversizedResponseIsAProtocolError) {
  ScriptedServer srv([](int fd, int) {
    ScriptedServer::read_request(fd);
    ScriptedServer::write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\nxxxx");
    ScriptedServer::read_request(fd, 1000ms);
  });
  HttpsClient client(ClientConfig{});
  std::string what;
  EXPECT_EQ(kind_of(client, get(plain_url(srv.port())), &what), Kind::Protocol);
  EXPECT_NE(what.find("exceeds"), std::string::npos) << what;
}

TEST(HttpsClient, IdleTtlRetiresPooledConnections) {
  TestServer s;
  s.router->add(
      "GET", "/x", [](Request&) { return Response::text(200, "x"); }, Exec::Inline);
  s.start(plain_config());
  ClientConfig cfg;
  cfg.idle_ttl = 100ms;
  HttpsClient client(cfg);
  EXPECT_EQ(client.send(get(s.url("/x"))).status, 200);
  EXPECT_EQ(client.stats().idle, 1u);
  EXPECT_TRUE(wait_until([&] { return client.stats().idle == 0; }, 3000ms, 10ms));
  EXPECT_EQ(client.send(get(s.url("/x"))).status, 200);
  EXPECT_EQ(client.stats().connects, 2u);
  EXPECT_EQ(client.stats().reuses, 0u);
}

TEST(HttpsClient, IdleConnectionsPerHostAreCapped) {
  std::atomic<int> inside{0};
  std::promise<void> all_in;
  std::shared_future<void> go = all_in.get_future().share();
  TestServer s;
  s.router->add("GET", "/x", [&](Request&) {
    if (++inside == 5) all_in.set_value();
    go.wait_for(5s);
    return Response::text(200, "x");
  });
  auto scfg = plain_config();
  scfg.worker_threads = 8;  // all five requests must be in flight at once
  s.start(scfg);
  ClientConfig cfg;
  cfg.max_idle_per_host = 2;
  HttpsClient client(cfg);
  std::vector<std::future<ClientResponse>> calls;
  for (int i = 0; i < 5; ++i)
    calls.push_back(std::async(std::launch::async, [&] { return client.send(get(s.url("/x"))); }));
  for (auto& c : calls) EXPECT_EQ(c.get().status, 200);
  auto st = client.stats();
  EXPECT_EQ(st.connects, 5u);
  EXPECT_EQ(st.idle, 2u);
}

TEST(HttpsClient, PostBodiesAndHeadersReachTheServer) {
  TestServer s;
  s.router->add("PUT", "/p/{id}", [](Request& req) {
    return Response::json(200, Json{{"id", req.params["id"]},
                                    {"body", req.body},
                                    {"ua", req.headers.get("User-Agent").value_or("")},
                                    {"host", req.headers.get("Host").value_or("")},
                                    {"x", req.headers.get("X-Custom").value_or("")}});
  });
  s.start(plain_config());
  ClientConfig cfg;
  cfg.user_agent = "dive-test/1";
  HttpsClient client(cfg);
  ClientRequest r;
  r.method = "PUT";
  r.url = s.url("/p/42");
  r.body = std::string(100000, 'z');
  r.headers.set("X-Custom", "v");
  auto resp = client.send(r);
  ASSERT_EQ(resp.status, 200);
  auto j = resp.json();
  EXPECT_EQ(j["id"], "42");
  EXPECT_EQ(j["body"].get<std::string>().size(), 100000u);
  EXPECT_EQ(j["ua"], "dive-test/1");
  EXPECT_EQ(j["host"], "127.0.0.1:" + std::to_string(s.port()));
  EXPECT_EQ(j["x"], "v");
}

TEST(HttpsClient, DestroyedWithPooledConnections) {
  TestServer s;
  s.router->add(
      "GET", "/x", [](Request&) { return Response::text(200, "x"); }, Exec::Inline);
  s.start(plain_config());
  {
    HttpsClient client(ClientConfig{});
    EXPECT_EQ(client.send(get(s.url("/x"))).status, 200);
  }
  EXPECT_TRUE(wait_until([&] { return s.active_connections() == 0; }, 3000ms, 10ms));
}
