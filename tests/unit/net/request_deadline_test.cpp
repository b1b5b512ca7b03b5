// The server's request deadline reaches the handler's thread (common/deadline.hpp), and an outgoing call
// made from a handler is clamped to it: a call to a server that never answers ends at the request's
// deadline, not at the call's own (longer) timeout.
#include <gtest/gtest.h>

#include "common/deadline.hpp"
#include "net/router.hpp"
#include "server_fixture.hpp"
#include "test_util.hpp"

using namespace dive;
using namespace dive::net;
using namespace dive::net::testing;
using namespace std::chrono_literals;

namespace {

// Milliseconds left of the handler's deadline, or -1 without one.
Response time_left(Request&) {
  if (!RequestDeadline::current()) return Response::text(200, "-1");
  return Response::text(200, std::to_string(RequestDeadline::clamp(Millis(3'600'000)).count()));
}

}  // namespace

TEST(RequestDeadlineServer, EachHandlerRunsUnderItsRequestsDeadline) {
  for (Exec exec : {Exec::Worker, Exec::Inline}) {
    TestServer s;
    s.router->add("GET", "/left", time_left, exec);
    ServerConfig cfg = plain_config();
    cfg.request_deadline = 2000ms;
    s.start(cfg);
    HttpsClient client(trusting_client());
    auto r = client.send(get(s.url("/left")));
    ASSERT_EQ(r.status, 200);
    const long left = std::stol(r.body);
    EXPECT_GT(left, 0);
    EXPECT_LE(left, 2000);
  }
  TestServer none;
  none.router->add("GET", "/left", time_left);
  none.start(plain_config());  // request_deadline 0: none
  HttpsClient client(trusting_client());
  EXPECT_EQ(client.send(get(none.url("/left"))).body, "-1");
}

TEST(RequestDeadlineServer, AnOutgoingCallFromAHandlerEndsAtTheRequestsDeadline) {
  // A dependency that accepts and never answers.
  ScriptedServer silent([](int fd, int) {
    ScriptedServer::read_request(fd);
    ScriptedServer::read_request(fd, 5000ms);  // answers nothing; returns when the caller gives up
  });
  HttpsClient outbound(trusting_client());
  TestServer s;
  s.router->add("GET", "/call", [&](Request&) {
    ClientRequest call = get("http://127.0.0.1:" + std::to_string(silent.port()) + "/", 10s);
    try {
      outbound.send(call);
      return Response::text(200, "answered");
    } catch (const TransportError& e) {
      return Response::text(503, e.what());
    }
  });
  ServerConfig cfg = plain_config();
  cfg.request_deadline = 500ms;
  s.start(cfg);
  HttpsClient client(trusting_client());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = client.send(get(s.url("/call")));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 503) << r.body;
  // The deliberate deadline (500 ms), not the call's own 10 s; the slack covers a loaded machine.
  EXPECT_LT(took, 500ms + 3s);
}
