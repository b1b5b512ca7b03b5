// HttpServer behaviour over plain HTTP (TLS specifics are in tls_test.cpp, connections and shutdown in
// server_connections_test.cpp): routing, errors and limits, request ids, keep-alive, timeouts, Inline vs
// Worker, concurrency and metrics.
#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

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

TEST(HttpServer, RoutesParamsQueryAndBody) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  HttpsClient client(ClientConfig{});

  auto r = client.send(get(s.url("/items/doc%201?x=1&y=a+b")));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get("Content-Type"), "application/json");
  EXPECT_EQ(r.headers.get("Server"), "dive");
  auto j = r.json();
  EXPECT_EQ(j["id"], "doc 1");
  EXPECT_EQ(j["route"], "/items/{id}");
  EXPECT_EQ(j["path"], "/items/doc 1");
  EXPECT_EQ(j["query"]["x"], "1");
  EXPECT_EQ(j["query"]["y"], "a b");
  EXPECT_EQ(r.headers.get("Content-Length"), std::to_string(r.body.size()));

  auto e = client.send(post(s.url("/echo"), R"({"hello":"world"})"));
  EXPECT_EQ(e.status, 200);
  EXPECT_EQ(e.body, R"({"hello":"world"})");
  EXPECT_EQ(e.headers.get("Content-Type"), "application/json");

  ClientRequest del;
  del.method = "DELETE";
  del.url = s.url("/items/1");
  auto d = client.send(del);
  EXPECT_EQ(d.status, 204);
  EXPECT_FALSE(d.headers.has("Content-Length"));
  EXPECT_TRUE(d.body.empty());
}

TEST(HttpServer, NotFoundAndMethodNotAllowedAreJson) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  HttpsClient client(ClientConfig{});

  auto nf = client.send(get(s.url("/nope")));
  EXPECT_EQ(nf.status, 404);
  auto j = nf.json();
  EXPECT_EQ(j["error"], "not_found");
  EXPECT_EQ(j["requestId"], *nf.headers.get("X-Request-Id"));

  ClientRequest put;
  put.method = "PUT";
  put.url = s.url("/items/3");
  auto na = client.send(put);
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.json()["error"], "method_not_allowed");
  EXPECT_EQ(na.headers.get("Allow"), "DELETE, GET, HEAD");
  // Errors keep the connection: all three requests used one connection.
  EXPECT_EQ(client.stats().connects, 1u);
}

TEST(HttpServer, AServiceCanShapeTheServersOwnErrors) {
  TestServer s;
  add_echo_routes(*s.router);
  auto cfg = plain_config();
  cfg.max_body_bytes = 1024;
  cfg.body_limit_status = 400;
  cfg.error_response = [](int status, const std::string& code, const std::string& message,
                          const std::string&) {
    return Response::json(status, Json{{"code", "x_" + code}, {"message", message}});
  };
  s.start(cfg);
  HttpsClient client(ClientConfig{});
  auto big = client.send(post(s.url("/echo"), std::string(4096, 'a')));
  EXPECT_EQ(big.status, 400);
  EXPECT_EQ(big.json()["code"], "x_payload_too_large");
  auto missing = client.send(get(s.url("/nowhere")));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json()["code"], "x_not_found");
  EXPECT_FALSE(missing.json().contains("requestId"));
  EXPECT_EQ(client.send(post(s.url("/echo"), "ok")).status, 200) << "the server keeps serving";
}

TEST(HttpServer, HeadAnswersWithoutBody) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  HttpsClient client(ClientConfig{});
  ClientRequest head = get(s.url("/items/7"));
  head.method = "HEAD";
  auto h = client.send(head);
  EXPECT_EQ(h.status, 200);
  EXPECT_TRUE(h.body.empty());
  auto full = client.send(get(s.url("/items/7")));
  EXPECT_EQ(h.headers.get("Content-Length"), std::to_string(full.body.size()));
  EXPECT_EQ(client.stats().connects, 1u);  // framing stayed intact on the shared connection
}

TEST(HttpServer, RequestIdEchoedOrGenerated) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  HttpsClient client(ClientConfig{});

  auto req = get(s.url("/items/1"));
  req.headers.set("X-Request-Id", "abc-123_X.y");
  auto r = client.send(req);
  EXPECT_EQ(r.headers.get("X-Request-Id"), "abc-123_X.y");
  EXPECT_EQ(r.json()["rid"], "abc-123_X.y");

  for (std::string bad : {std::string(65, 'a'), std::string("has space"), std::string("semi;colon")}) {
    auto b = get(s.url("/items/1"));
    b.headers.set("X-Request-Id", bad);
    auto rb = client.send(b);
    auto id = rb.headers.get("X-Request-Id").value_or("");
    EXPECT_EQ(id.size(), 16u) << bad;
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(rb.json()["rid"], id);
  }
  auto none = client.send(get(s.url("/items/1")));
  EXPECT_EQ(none.headers.get("X-Request-Id").value_or("").size(), 16u);
}

TEST(HttpServer, KeepAliveReusesOneConnection) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  HttpsClient client(ClientConfig{});
  for (int i = 0; i < 20; ++i) ASSERT_EQ(client.send(get(s.url("/items/" + std::to_string(i)))).status, 200);
  auto st = client.stats();
  EXPECT_EQ(st.connects, 1u);
  EXPECT_EQ(st.reuses, 19u);
  EXPECT_EQ(st.errors, 0u);
  EXPECT_EQ(st.idle, 1u);
  EXPECT_EQ(s.active_connections(), 1.0);
}

TEST(HttpServer, BodyLimitGives413AndCloses) {
  TestServer s;
  add_echo_routes(*s.router);
  auto cfg = plain_config();
  cfg.max_body_bytes = 1024;
  s.start(cfg);
  HttpsClient client(ClientConfig{});

  EXPECT_EQ(client.send(post(s.url("/echo"), std::string(1024, 'a'))).status, 200);
  auto r = client.send(post(s.url("/echo"), std::string(4096, 'a')));
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.json()["error"], "payload_too_large");
  EXPECT_EQ(r.headers.get("Connection"), "close");

  // A declared length over the limit is refused before the body is sent, and the connection closes.
  RawConn c(s.port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 413);
  EXPECT_TRUE(c.wait_closed());

  // Also when body bytes follow the header in the same packet (Beast 1.74 loses that error in eager mode
  // unless the parser keeps it): the answer comes at once, not after a gigabyte.
  RawConn early(s.port());
  ASSERT_TRUE(early.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\nabcdef"));
  EXPECT_EQ(early.read_response(2000ms).status, 413);
  EXPECT_TRUE(early.wait_closed());

  // Chunked bodies are counted as they arrive.
  RawConn k(s.port());
  std::string chunk(800, 'b');
  ASSERT_TRUE(k.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n320\r\n" + chunk +
                     "\r\n320\r\n" + chunk + "\r\n0\r\n\r\n"));
  EXPECT_EQ(k.read_response().status, 413);
  EXPECT_TRUE(k.wait_closed());
  EXPECT_EQ(s.counter("unmatched", "POST", "413"), 4.0);
}

TEST(HttpServer, ChunkedBodyWithinLimitIsAssembled) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  RawConn c(s.port());
  ASSERT_TRUE(
      c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n "
             "world\r\n0\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello world");
}

TEST(HttpServer, HeaderLimitGives431AndCloses) {
  TestServer s;
  add_echo_routes(*s.router);
  auto cfg = plain_config();
  cfg.max_header_bytes = 1024;
  s.start(cfg);
  RawConn c(s.port());
  ASSERT_TRUE(c.send("GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(2048, 'h') + "\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(Json::parse(r.body)["error"], "request_header_fields_too_large");
  EXPECT_TRUE(c.wait_closed());

  RawConn ok(s.port());  // a normal request still works
  ASSERT_TRUE(ok.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(ok.read_response().status, 200);
}

TEST(HttpServer, MalformedRequestGives400AndCloses) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  for (std::string bad :
       {std::string("NOT HTTP AT ALL\r\n\r\n"), std::string("GET /items/1 HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("GET /items/1 HTTP/1.1\r\nContent-Length: x\r\n\r\n"),
        std::string("GET /items/1 HTTP/9.9\r\n\r\n")}) {
    RawConn c(s.port());
    ASSERT_TRUE(c.send(bad));
    auto r = c.read_response();
    EXPECT_EQ(r.status, 400) << bad;
    if (r.status == 400) {
      EXPECT_EQ(Json::parse(r.body)["error"], "bad_request");
      EXPECT_EQ(r.header("x-request-id").size(), 16u);
    }
    EXPECT_TRUE(c.wait_closed()) << bad;
  }
  HttpsClient client(ClientConfig{});
  EXPECT_EQ(client.send(get(s.url("/items/1"))).status, 200);
}

TEST(HttpServer, SlowRequestTimesOutWith408) {
  TestServer s;
  add_echo_routes(*s.router);
  auto cfg = plain_config();
  cfg.read_timeout = 300ms;
  s.start(cfg);
  RawConn c(s.port());
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(c.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n"));  // never finished
  auto r = c.read_response(3000ms);
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status, 408);
  EXPECT_TRUE(c.wait_closed(3000ms));
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 2500ms);

  // A connection that never sends anything is closed too, without a response.
  RawConn silent(s.port());
  EXPECT_TRUE(silent.wait_closed(3000ms));
}

TEST(HttpServer, TrickleDoesNotExtendTheReadTimeout) {
  TestServer s;
  add_echo_routes(*s.router);
  auto cfg = plain_config();
  cfg.read_timeout = 400ms;
  s.start(cfg);
  RawConn c(s.port());
  std::string req = "GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(300, 'p');
  auto t0 = std::chrono::steady_clock::now();
  // One byte every 10 ms would take ~3 s for the whole header; the server must cut it off at read_timeout.
  // The 10 ms between bytes is the slow client under test; it is spent watching for the server's answer.
  for (size_t i = 0; i < req.size(); ++i) {
    c.send(std::string(1, req[i]));
    if (c.readable(10ms)) break;
  }
  auto reacted = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(reacted, 2000ms);
  EXPECT_EQ(c.read_response(1000ms).status, 408);
  EXPECT_TRUE(c.wait_closed(2000ms));
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosed) {
  TestServer s;
  add_echo_routes(*s.router);
  auto cfg = plain_config();
  cfg.idle_timeout = 300ms;
  s.start(cfg);
  RawConn c(s.port());
  ASSERT_TRUE(c.send("GET /items/1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 200);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(c.wait_closed(3000ms));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);
  EXPECT_TRUE(wait_until([&] { return s.active_connections() == 0; }, 2000ms, 10ms));
}

TEST(HttpServer, Http10AndConnectionCloseAreHonoured) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  {
    RawConn c(s.port());
    ASSERT_TRUE(c.send("GET /items/1 HTTP/1.0\r\n\r\n"));
    auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_TRUE(c.wait_closed());
  }
  {
    RawConn c(s.port());
    ASSERT_TRUE(c.send("GET /items/1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("connection"), "keep-alive");
    ASSERT_TRUE(c.send("GET /items/2 HTTP/1.0\r\n\r\n"));
    EXPECT_EQ(c.read_response().status, 200);
    EXPECT_TRUE(c.wait_closed());
  }
  {
    RawConn c(s.port());
    ASSERT_TRUE(c.send("GET /items/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.header("connection"), "close");
    EXPECT_TRUE(c.wait_closed());
  }
}

TEST(HttpServer, PipelinedRequestsAnsweredInOrder) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  RawConn c(s.port());
  ASSERT_TRUE(
      c.send("GET /items/a HTTP/1.1\r\nHost: x\r\n\r\nGET /items/b HTTP/1.1\r\nHost: x\r\n\r\n"
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz"));
  EXPECT_EQ(Json::parse(c.read_response().body)["id"], "a");
  EXPECT_EQ(Json::parse(c.read_response().body)["id"], "b");
  EXPECT_EQ(c.read_response().body, "xyz");
}

TEST(HttpServer, ExpectContinueIsAnswered) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  RawConn c(s.port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(c.read_response(2000ms).status, 100);
  ASSERT_TRUE(c.send("hello"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
}

TEST(HttpServer, HandlerExceptionGives500AndIsLoggedWithoutBody) {
  auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64);
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));

  TestServer s;
  add_echo_routes(*s.router);
  s.router->add("POST", "/boom", [](Request&) -> Response { throw std::runtime_error("database exploded"); });
  s.router->add(
      "GET", "/boom-inline", [](Request&) -> Response { throw 42; }, Exec::Inline);
  s.start(plain_config());
  HttpsClient client(ClientConfig{});

  auto req = post(s.url("/boom"), R"({"password":"hunter2-secret"})");
  req.headers.set("X-Request-Id", "req-500");
  auto r = client.send(req);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.json()["error"], "internal_error");
  EXPECT_EQ(r.json()["requestId"], "req-500");
  EXPECT_EQ(r.body.find("exploded"), std::string::npos);  // internals stay in the log
  EXPECT_EQ(client.send(get(s.url("/boom-inline"))).status, 500);
  // The server keeps serving, on the same connection.
  EXPECT_EQ(client.send(get(s.url("/items/1"))).status, 200);
  EXPECT_EQ(client.stats().connects, 1u);

  s.server->stop();
  spdlog::set_default_logger(previous);
  bool logged = false;
  for (const auto& line : sink->last_formatted()) {
    EXPECT_EQ(line.find("hunter2"), std::string::npos) << line;
    if (line.find("req-500") != std::string::npos && line.find("database exploded") != std::string::npos &&
        line.find("[error]") != std::string::npos)
      logged = true;
  }
  EXPECT_TRUE(logged);
}

TEST(HttpServer, HandlerHeadersCannotSplitTheResponse) {
  TestServer s;
  s.router->add(
      "GET", "/h",
      [](Request&) {
        Response r = Response::text(200, "ok");
        r.headers.add("X-Evil", "a\r\nInjected: yes");
        r.headers.add("Content-Length", "999");
        r.headers.add("X-Fine", "1");
        return r;
      },
      Exec::Inline);
  s.start(plain_config());
  RawConn c(s.port());
  ASSERT_TRUE(c.send("GET /h HTTP/1.1\r\nHost: x\r\n\r\nGET /h HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(r.header("content-length"), "2");
  EXPECT_EQ(r.header("x-fine"), "1");
  EXPECT_EQ(r.header("injected"), "");
  EXPECT_EQ(r.header("x-evil"), "");
  EXPECT_EQ(c.read_response().status, 200);  // framing intact
}

TEST(HttpServer, HandlerMayCloseTheConnection) {
  TestServer s;
  s.router->add(
      "GET", "/bye",
      [](Request&) {
        Response r = Response::text(200, "bye");
        r.headers.set("Connection", "close");
        return r;
      },
      Exec::Inline);
  s.router->add(
      "GET", "/early", [](Request&) { return Response::text(101, ""); }, Exec::Inline);
  s.start(plain_config());
  RawConn c(s.port());
  ASSERT_TRUE(c.send("GET /early HTTP/1.1\r\nHost: x\r\n\r\nGET /bye HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(c.read_response().status, 500);  // 1xx is never a final response
  auto r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.wait_closed());
}

TEST(HttpServer, BlockingWorkerDoesNotBlockInline) {
  // Everything handlers use is declared before the server, which stops (joining its workers) first.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  std::atomic<std::thread::id> worker_tid{}, inline_tid{};
  TestServer s;
  s.router->add("GET", "/slow", [&](Request&) {
    worker_tid = std::this_thread::get_id();
    entered.set_value();
    released.wait();
    return Response::text(200, "slow");
  });
  s.router->add(
      "GET", "/fast",
      [&](Request&) {
        inline_tid = std::this_thread::get_id();
        return Response::text(200, "fast");
      },
      Exec::Inline);
  auto cfg = plain_config();
  cfg.io_threads = 1;  // the single I/O thread must stay free while the worker blocks
  s.start(cfg);

  HttpsClient client(ClientConfig{});
  auto slow = std::async(std::launch::async, [&] { return client.send(get(s.url("/slow"))); });
  entered.get_future().wait();
  for (int i = 0; i < 20; ++i) {
    auto r = client.send(get(s.url("/fast"), 2000ms));
    ASSERT_EQ(r.status, 200);
  }
  release.set_value();
  EXPECT_EQ(slow.get().body, "slow");
  EXPECT_NE(worker_tid.load(), inline_tid.load());
  EXPECT_NE(inline_tid.load(), std::this_thread::get_id());
}

TEST(HttpServer, ConcurrentClients) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  HttpsClient client(ClientConfig{});
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (i % 2) {
          auto r = client.send(post(s.url("/echo"), "t" + std::to_string(t) + "-" + std::to_string(i)));
          if (r.status == 200 && r.body == "t" + std::to_string(t) + "-" + std::to_string(i)) ++ok;
        } else {
          auto r = client.send(get(s.url("/items/" + std::to_string(i))));
          if (r.status == 200 && r.json()["id"] == std::to_string(i)) ++ok;
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1600);
  EXPECT_EQ(s.counter("/items/{id}", "GET", "200") + s.counter("/echo", "POST", "200"), 1600.0);
  EXPECT_LE(client.stats().connects, 16u);
  EXPECT_EQ(client.stats().errors, 0u);
}

TEST(HttpServer, MetricsUseRoutePatterns) {
  TestServer s;
  add_echo_routes(*s.router);
  s.start(plain_config());
  HttpsClient client(ClientConfig{});
  client.send(get(s.url("/items/secret-doc-1")));
  client.send(get(s.url("/items/secret-doc-2")));
  client.send(get(s.url("/no/such/path")));
  ClientRequest weird;
  weird.method = "BREW";
  weird.url = s.url("/items/1");
  EXPECT_EQ(client.send(weird).status, 405);

  EXPECT_EQ(s.counter("/items/{id}", "GET", "200"), 2.0);
  EXPECT_EQ(s.counter("unmatched", "GET", "404"), 1.0);
  EXPECT_EQ(s.counter("unmatched", "OTHER", "405"), 1.0);
  std::string text = s.registry.expose();
  EXPECT_NE(
      text.find(
          R"(dive_v3_http_requests_total{service="test",route="/items/{id}",method="GET",status="200"} 2)"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(dive_v3_http_request_duration_seconds_count{service="test",route="/items/{id}"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(dive_v3_http_connections_active{service="test"} 1)"), std::string::npos) << text;
  EXPECT_EQ(text.find("secret-doc"), std::string::npos);
  EXPECT_EQ(text.find("/no/such/path"), std::string::npos);
  EXPECT_EQ(text.find("BREW"), std::string::npos);
}

TEST(HttpServer, ByDefaultFourHandlersPerCoreRunAtOnce) {
  const int expected = static_cast<int>(std::max(4u, 4 * std::thread::hardware_concurrency()));
  EXPECT_EQ(default_worker_threads(), expected);
  // worker_threads 0: that many blocking handlers are in flight together (one more would wait).
  std::atomic<int> inside{0};
  std::promise<void> all_in;
  std::shared_future<void> go = all_in.get_future().share();
  TestServer s;
  s.router->add("GET", "/block", [&](Request&) {
    if (++inside == 4) all_in.set_value();
    go.wait_for(5s);
    return Response::text(200, "x");
  });
  auto cfg = plain_config();
  cfg.worker_threads = 0;
  s.start(cfg);
  HttpsClient client{ClientConfig{}};
  std::vector<std::future<ClientResponse>> calls;
  for (int i = 0; i < 4; ++i)
    calls.push_back(std::async(std::launch::async, [&] { return client.send(get(s.url("/block"))); }));
  for (auto& c : calls) EXPECT_EQ(c.get().status, 200);
  EXPECT_EQ(go.wait_for(0s), std::future_status::ready) << "the four handlers never ran at once";
}
