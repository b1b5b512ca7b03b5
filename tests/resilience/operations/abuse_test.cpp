// Hostile clients against the services while the load runs, none of which may cost the load a request or
// slow it past its deadline: slowloris (connections that send their request, or their TLS handshake, a byte
// at a time) beside 2,000 idle TLS connections; and a burst of malformed and oversized requests against the
// api, kas, idp and pdp, each answered with a 4xx, without a crash (same pids, no restart).
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "ops_fixture.hpp"

using namespace dive;
using namespace dive::testing;
using namespace dive::testing::ops;
using namespace std::chrono_literals;

namespace {

class Abuse : public Ops {
 protected:
  std::map<std::string, Json> services() {
    std::map<std::string, Json> out;
    const Json st_now = status();  // named: a range-for over a temporary's member would dangle
    for (const auto& s : st_now["services"]) out[s["name"].get<std::string>()] = s;
    EXPECT_GE(out.size(), 7u) << st_now.dump();
    return out;
  }
  void expect_same_processes(std::map<std::string, Json> before) {
    for (const std::string name : {"api", "idp", "pdp", "kas"}) {
      const Json now = svc(name);
      EXPECT_EQ(now["pid"], before[name]["pid"]) << name << " was restarted: " << now.dump();
      EXPECT_EQ(now["restarts"], before[name]["restarts"]) << name << ": " << now.dump();
      EXPECT_EQ(now["healthy"], true) << name << ": " << now.dump();
    }
  }
};

}  // namespace

TEST_F(Abuse, SlowlorisBesideTwoThousandIdleConnectionsDoesNotDelayTheLoad) {
  auto load = start_load();
  const auto before = services();
  SSL_CTX* ctx = tls_client_ctx(cli().ca_file().string());
  const int api = port("api");
  std::vector<std::unique_ptr<RawConn>> idle;
  idle.reserve(2000);
  int handshakes = 0;
  for (int i = 0; i < 2000; ++i) {
    idle.push_back(std::make_unique<RawConn>(api, ctx));
    handshakes += idle.back()->ok();
  }
  EXPECT_GE(handshakes, 1950) << "idle connections accepted";

  // 100 TLS connections sending an endless request head, and 100 TCP connections sending a TLS handshake
  // record, a byte every 250 ms each; when the server gives up on one (its read timeout), it is reopened.
  std::atomic<bool> stop{false};
  std::atomic<int> cut_off{0}, sent{0};
  std::thread loris([&] {
    const std::string head = "GET /api/resources HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
    const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);  // a 512-byte ClientHello
    struct Slow {
      std::unique_ptr<RawConn> conn;
      bool tls;
      size_t at = 0;
    };
    std::vector<Slow> slow;
    for (int i = 0; i < 200; ++i)
      slow.push_back({std::make_unique<RawConn>(api, i < 100 ? ctx : nullptr), i < 100});
    while (!stop) {
      for (auto& s : slow) {
        const std::string& text = s.tls ? head : hello;
        const char byte = s.at < text.size() ? text[s.at] : (s.tls ? 'a' : '\0');
        if (s.conn->closed_by_peer() || !s.conn->send(std::string(1, byte))) {
          ++cut_off;
          s.conn = std::make_unique<RawConn>(api, s.tls ? ctx : nullptr);
          s.at = 0;
          continue;
        }
        ++s.at;
        ++sent;
      }
      std::this_thread::sleep_for(250ms);  // the attack's own pace
    }
  });
  // The slow connections outlive the servers' read timeout (10 s): the server cuts them off, they come back.
  EXPECT_TRUE(wait_until([&] { return cut_off >= 150; }, 25s, 250ms))
      << cut_off << " slow connections cut off, " << sent << " bytes dribbled";
  stop = true;
  loris.join();
  auto [code, body] = cli().https_get(api, "/health");
  EXPECT_EQ(code, 200) << body;
  idle.clear();
  SSL_CTX_free(ctx);
  expect_same_processes(before);
  finish(*load, "slowloris-and-2000-idle-connections", 5s);
  EXPECT_EQ(failures(*load), 0u);
}

TEST_F(Abuse, MalformedAndOversizedRequestsAreRefusedWithoutACrash) {
  auto load = start_load();
  const auto before = services();
  const std::string token = api().token("testuser-usa-5", true);
  ASSERT_FALSE(token.empty());
  struct Target {
    std::string service, path, content_type, auth;
  };
  const std::vector<Target> targets{
      {"api", "/api/resources", "application/json", "Authorization: Bearer " + token + "\r\n"},
      {"kas", "/request-key", "application/json", "Authorization: Bearer " + token + "\r\n"},
      {"pdp", "/v1/data/dive/authz/decision", "application/json", ""},
      {"idp", "/realms/dive-v3-broker-usa/protocol/openid-connect/token", "application/x-www-form-urlencoded",
       ""}};
  auto post = [](const Target& t, const std::string& body) {
    return "POST " + t.path + " HTTP/1.1\r\nHost: localhost\r\n" + t.auth +
           "Content-Type: " + t.content_type + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
  };
  struct Probe {
    std::string name, bytes;
  };
  auto probes_for = [&](const Target& t) {
    return std::vector<Probe>{
        {"garbage request line", "HELLO THERE\r\n\r\n"},
        {"NUL in a header",
         std::string("GET /health HTTP/1.1\r\nHost: localhost\r\nX-A: a") + '\0' + "b\r\n\r\n"},
        {"bad Content-Length",
         "POST " + t.path + " HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n"},
        {"bad chunk",
         "POST " + t.path +
             " HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"},
        {"20 KiB header",
         "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n"},
        {"2 MiB body", "POST " + t.path + " HTTP/1.1\r\nHost: localhost\r\n" + t.auth + "Content-Type: " +
                           t.content_type + "\r\nContent-Length: 2097152\r\n\r\n" + std::string(65536, '{')},
        {"bad JSON", post(t, t.content_type == "application/json" ? "{\"not\": json" : "grant_type=%zz&&=")},
        {"JSON of the wrong shape",
         post(t, t.content_type == "application/json" ? "[1, 2, 3]" : "grant_type=nope")},
    };
  };
  SSL_CTX* ctx = tls_client_ctx(cli().ca_file().string());
  std::mutex mu;
  std::map<std::string, std::map<int, int>> seen;  // service/probe -> status -> count
  std::vector<std::string> wrong;
  std::vector<std::thread> burst;
  for (int w = 0; w < 4; ++w)
    burst.emplace_back([&] {
      for (int round = 0; round < 5; ++round)
        for (const auto& t : targets)
          for (const auto& p : probes_for(t)) {
            RawConn c(port(t.service), ctx);
            c.send(p.bytes);  // the server may refuse before it has read everything: read its answer anyway
            const int status = c.read_status();
            std::lock_guard lk(mu);
            ++seen[t.service + " " + p.name][status];
            if (status < 400 || status > 499)
              wrong.push_back(t.service + " " + p.name + ": " + std::to_string(status));
          }
    });
  for (auto& t : burst) t.join();
  SSL_CTX_free(ctx);
  EXPECT_TRUE(wrong.empty()) << wrong.size() << " answers that are not a 4xx, e.g. " << wrong.front();
  for (const auto& [what, statuses] : seen) {
    std::string line;
    for (const auto& [st, n] : statuses) line += " " + std::to_string(st) + "x" + std::to_string(n);
    std::printf("[abuse] %-40s%s\n", what.c_str(), line.c_str());
  }
  expect_same_processes(before);
  finish(*load, "malformed-and-oversized-burst", 5s);
  EXPECT_EQ(failures(*load), 0u);
}
