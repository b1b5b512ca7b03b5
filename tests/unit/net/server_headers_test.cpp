// HttpServer's default headers (ServerConfig::default_headers): on every response, the server's own errors
// included, unless the response sets the field itself.
#include <gtest/gtest.h>

#include <stdexcept>

#include "server_fixture.hpp"
#include "test_util.hpp"

using namespace dive;
using namespace dive::net;
using namespace dive::net::testing;

TEST(HttpServer, DefaultHeadersGoOnEveryResponseUnlessTheResponseSetsThem) {
  TestServer s;
  s.router->add("GET", "/items/{id}", [](Request&) { return Response::text(200, "item"); });
  s.router->add("GET", "/own", [](Request&) {
    Response r = Response::text(200, "x");
    r.headers.set("X-Frame-Options", "SAMEORIGIN");
    return r;
  });
  s.router->add("GET", "/boom", [](Request&) -> Response { throw std::runtime_error("boom"); });
  auto cfg = plain_config();
  cfg.default_headers.set("X-Frame-Options", "DENY");
  cfg.default_headers.set("X-Content-Type-Options", "nosniff");
  cfg.default_headers.set("Content-Length", "7");  // server-managed: ignored
  cfg.max_header_bytes = 1024;
  s.start(cfg);
  HttpsClient client(ClientConfig{});
  ClientRequest put;
  put.method = "PUT";
  put.url = s.url("/items/3");
  for (const auto& r : {client.send(get(s.url("/items/1"))), client.send(get(s.url("/nope"))),
                        client.send(put), client.send(get(s.url("/boom")))}) {
    EXPECT_EQ(r.headers.get("X-Frame-Options"), "DENY") << r.status;
    EXPECT_EQ(r.headers.get("X-Content-Type-Options"), "nosniff") << r.status;
    EXPECT_EQ(r.headers.get("Content-Length"), std::to_string(r.body.size())) << r.status;
  }
  auto own = client.send(get(s.url("/own")));
  EXPECT_EQ(own.headers.get("X-Frame-Options"), "SAMEORIGIN") << "the route's own value wins";
  EXPECT_EQ(own.headers.get("X-Content-Type-Options"), "nosniff");
  // An error the server answers before routing carries them too.
  RawConn c(s.port());
  ASSERT_TRUE(c.send("GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2048, 'h') + "\r\n\r\n"));
  auto big = c.read_response();
  EXPECT_EQ(big.status, 431);
  EXPECT_EQ(big.header("x-frame-options"), "DENY");
}
