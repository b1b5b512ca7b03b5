// HttpServer's connections over plain HTTP: a port in use, the connection cap (the longest-idle connection
// makes room; shedding near the cap) and shutdown (in-flight requests drain, busy ones are closed after the
// grace). Routing, errors, limits and timeouts: server_test.cpp.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "server_fixture.hpp"
#include "servers.hpp"
#include "test_util.hpp"

using namespace dive;
using namespace dive::net;
using namespace dive::net::testing;
using namespace std::chrono_literals;
using dive::testing::wait_until;

TEST(HttpServer, PortInUseIsAClearError) {
  TestServer a;
  add_echo_routes(*a.router);
  a.start(plain_config());
  auto cfg = plain_config();
  cfg.port = a.port();
  HttpServer b(cfg, a.router, &a.registry);
  try {
    b.start();
    FAIL() << "second server bound the same port";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot listen on 127.0.0.1:" + std::to_string(a.port()) + ": Address already in use");
  }
}

TEST(HttpServer, AtTheConnectionLimitTheLongestIdleConnectionMakesRoom) {
  TestServer s;
  add_echo_routes(*s.router);
  auto cfg = plain_config();
  cfg.max_connections = 2;
  cfg.shed_idle_at = 1.0;  // shed only at the cap
  s.start(cfg);
  RawConn a(s.port());
  ASSERT_TRUE(wait_until([&] { return s.active_connections() == 1; }, 2000ms, 5ms));
  RawConn b(s.port());
  ASSERT_TRUE(wait_until([&] { return s.active_connections() == 2; }, 2000ms, 5ms));
  RawConn c(s.port());  // a has waited longest without a request: it goes, c is served
  EXPECT_TRUE(a.wait_closed(2000ms));
  ASSERT_TRUE(c.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 200);
  ASSERT_TRUE(b.send("GET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(b.read_response().status, 200);
}

TEST(HttpServer, AtTheConnectionLimitWithNothingIdleANewConnectionIsClosed) {
  std::promise<void> release;
  auto released = release.get_future().share();
  std::atomic<int> entered{0};
  TestServer s;
  s.router->add("POST", "/work", [&](Request&) {
    ++entered;
    released.wait();
    return Response::text(200, "done");
  });
  auto cfg = plain_config();
  cfg.max_connections = 2;
  cfg.shed_idle_at = 1.0;
  s.start(cfg);
  RawConn a(s.port()), b(s.port());
  const std::string busy = "POST /work HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx";
  ASSERT_TRUE(a.send(busy));
  ASSERT_TRUE(b.send(busy));
  ASSERT_TRUE(wait_until([&] { return entered.load() == 2; }, 2000ms, 5ms));
  RawConn c(s.port());
  EXPECT_TRUE(c.wait_closed(2000ms)) << "both connections are busy: nothing to shed";
  release.set_value();
  EXPECT_EQ(a.read_response().status, 200);
  EXPECT_EQ(b.read_response().status, 200);
}

TEST(HttpServer, NearTheLimitIdleConnectionsAreShedForNewOnes) {
  TestServer s;
  add_echo_routes(*s.router);
  auto cfg = plain_config();
  cfg.max_connections = 10;
  cfg.shed_idle_at = 0.5;  // from 5 open connections on
  s.start(cfg);
  std::vector<std::unique_ptr<RawConn>> idle;
  for (int i = 0; i < 8; ++i) {
    idle.push_back(std::make_unique<RawConn>(s.port()));
    ASSERT_TRUE(
        wait_until([&] { return s.active_connections() >= std::min<size_t>(i + 1, 5); }, 2000ms, 5ms));
  }
  EXPECT_TRUE(wait_until([&] { return s.active_connections() <= 5; }, 2000ms, 5ms)) << s.active_connections();
  EXPECT_TRUE(idle[0]->wait_closed(2000ms)) << "the oldest went first";
  ASSERT_TRUE(idle[7]->send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(idle[7]->read_response().status, 200);
}

TEST(HttpServer, GracefulStopWaitsForInFlightRequest) {
  std::promise<void> entered, release;
  auto released = release.get_future();
  TestServer s;
  s.router->add("POST", "/work", [&](Request& req) {
    entered.set_value();
    released.wait();
    return Response::text(200, "done:" + req.body);
  });
  add_echo_routes(*s.router);
  s.start(plain_config());
  uint16_t port = s.port();

  RawConn idle(port);  // an idle keep-alive connection is closed by stop
  ASSERT_TRUE(idle.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(idle.read_response().status, 200);

  HttpsClient client(ClientConfig{});
  auto inflight = std::async(std::launch::async, [&] { return client.send(post(s.url("/work"), "job")); });
  entered.get_future().wait();

  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    s.server->stop(5000ms);
    stopped = true;
  });
  EXPECT_TRUE(wait_until([&] { return !can_connect(port); }, 3000ms, 5ms));  // no longer accepting
  EXPECT_TRUE(idle.wait_closed(3000ms));
  EXPECT_FALSE(stopped.load());  // still waiting for the in-flight request
  release.set_value();
  auto r = inflight.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "done:job");
  EXPECT_EQ(r.headers.get("Connection"), "close");
  stopper.join();
  EXPECT_TRUE(stopped.load());
  s.server->stop();  // idempotent
  s.server->wait();  // returns at once after stop
}

TEST(HttpServer, StopAfterGraceClosesBusyConnections) {
  std::promise<void> entered, release;
  auto released = release.get_future().share();
  TestServer s;
  s.router->add("GET", "/stuck", [&](Request&) {
    entered.set_value();
    released.wait_for(5s);
    return Response::text(200, "late");
  });
  s.start(plain_config());
  RawConn c(s.port());
  ASSERT_TRUE(c.send("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n"));
  entered.get_future().wait();
  std::thread stopper([&] { s.server->stop(200ms); });
  EXPECT_TRUE(c.wait_closed(3000ms));  // closed without a response once the grace period is over
  release.set_value();
  stopper.join();
}

TEST(HttpServer, WaitReturnsWhenStoppedFromAnotherThread) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  std::atomic<bool> returned{false};
  std::thread waiter([&] {
    s.server->wait();
    returned = true;
  });
  s.server->stop();
  waiter.join();
  EXPECT_TRUE(returned.load());
  EXPECT_FALSE(can_connect(s.port()));
}
