// A restart of each stateless service under load (`hub restart api|pdp|kas|idp`): the service drains (a
// request in flight when it is told to stop is answered), and the requests that fail meanwhile are counted
// and bounded — from the api's point of view only as 503 with a reason for pdp and kas, none for the idp;
// the api's own restart refuses connections for a moment (transport errors, bounded).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/encoding.hpp"
#include "common/random.hpp"
#include "ops_fixture.hpp"

using namespace dive;
using namespace dive::testing;
using namespace dive::testing::ops;
using namespace std::chrono_literals;

namespace {

// The most failed requests a restart may cost the load (3 workers, 25 ms pace), stated per service, and the
// longest stretch of time they may span: the restart (the old process drains and exits, the new one starts)
// plus, for pdp and kas, the api's breaker cooldown (3 s in the test profile) when the gap opened it.
constexpr size_t kMaxFailuresPdp = 300;  // decisions not cached: 503 "policy decision point unavailable"
constexpr size_t kMaxFailuresKas = 300;  // key requests: 503 until the kas answers again
constexpr size_t kMaxFailuresIdp = 0;    // tokens are validated with the cached JWKS: nothing fails
constexpr size_t kMaxFailuresApi = 600;  // connections refused while the api is down (they fail at once)
constexpr Millis kMaxFailureSpan{6000};

// From the first failed request's start to the last one's end.
Millis failure_span(const LoadDriver& load) {
  std::optional<std::chrono::steady_clock::time_point> first, last;
  for (const auto& s : load.samples()) {
    if (s.ok) continue;
    if (!first || s.start < *first) first = s.start;
    if (!last || s.end > *last) last = s.end;
  }
  return first ? std::chrono::duration_cast<Millis>(*last - *first) : Millis(0);
}

bool accepts_connections(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

class Restarts : public Ops {
 protected:
  // `hub restart <service>` under load: the failed requests of the run.
  size_t restart_under_load(const std::string& service, Millis bound, bool transport_errors) {
    auto load = start_load();
    const Json before = svc(service);
    load->fault_begins();
    auto r = cli().run({"hub", "restart", service});
    load->fault_ends();
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const Json after = svc(service);
    EXPECT_NE(after["pid"], before["pid"]) << after.dump();
    EXPECT_EQ(after["restarts"], before["restarts"]) << "a restart asked for is not counted as a crash";
    finish(*load, service + "-restart", bound, transport_errors);
    EXPECT_LE(failure_span(*load), kMaxFailureSpan);
    std::printf("[ops] %s restart: %zu failed requests over %lld ms\n", service.c_str(), failures(*load),
                static_cast<long long>(failure_span(*load).count()));
    return failures(*load);
  }
};

}  // namespace

TEST_F(Restarts, PdpRestartUnderLoad) {
  const size_t failed = restart_under_load("pdp", 15s, false);
  EXPECT_LE(failed, kMaxFailuresPdp);
}

TEST_F(Restarts, KasRestartUnderLoad) {
  const size_t failed = restart_under_load("kas", 15s, false);
  EXPECT_LE(failed, kMaxFailuresKas);
}

TEST_F(Restarts, IdpRestartUnderLoad) {
  const size_t failed = restart_under_load("idp", 10s, false);
  EXPECT_LE(failed, kMaxFailuresIdp);
}

TEST_F(Restarts, ApiRestartUnderLoadDrainsTheRequestInFlight) {
  auto load = start_load();
  const std::string token = api().token("testuser-usa-5", true);
  ASSERT_FALSE(token.empty());
  const std::string title = "drained-" + secure_token(8);
  const Json doc{{"title", title},
                 {"content", base64_encode("in flight when the api was told to stop\n")},
                 {"classification", "SECRET"},
                 {"releasabilityTo", {"USA"}},
                 {"COI", {"FVEY"}},
                 {"coiOperator", "ALL"}};
  const std::string body = doc.dump();
  SSL_CTX* ctx = tls_client_ctx(cli().ca_file().string());
  RawConn conn(port("api"), ctx, 15s);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(conn.send("POST /api/resources HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " + token +
                        "\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, body.size() / 2)));
  const pid_t before = svc("api")["pid"];
  load->fault_begins();
  const Json restart = supervisor_answer("restart", "api");
  ASSERT_TRUE(restart.is_object() && restart.value("ok", false)) << restart.dump();
  if (restart.value("graceful", false)) {
    // A new api starts beside this one on the same socket; once it is ready the supervisor swaps them (status
    // shows the new pid) and sends this one SIGTERM: from then on it is draining, our request in flight.
    EXPECT_TRUE(wait_until([&] { return svc("api")["pid"] != before; }, 30s, 5ms)) << svc("api").dump();
    EXPECT_TRUE(accepts_connections(port("api"))) << "the port closed during a graceful restart";
  } else {
    // An api taken over from a previous supervisor (an earlier scenario killed one) did not get the
    // supervisor's socket: SIGTERM now, and it stops accepting while it drains.
    EXPECT_TRUE(wait_until([&] { return !accepts_connections(port("api")); }, 5s, 5ms));
  }
  ASSERT_TRUE(conn.send(body.substr(body.size() / 2)));
  const std::string answer = conn.read_all();
  EXPECT_EQ(answer.rfind("HTTP/1.1 201", 0), 0u) << "the request in flight was not answered: " << answer;
  ASSERT_TRUE(wait_until(
      [&] {
        Json s = svc("api");
        return s["state"] == "running" && s["healthy"] == true && s["pid"] != before;
      },
      60s))
      << svc("api").dump();
  load->fault_ends();
  // What the drained request wrote is kept.
  const auto json_at = answer.find("\r\n\r\n");
  const Json created =
      json_at == std::string::npos ? Json() : Json::parse(answer.substr(json_at + 4), nullptr, false);
  ASSERT_TRUE(created.is_object() && created.contains("resourceId")) << answer;
  EXPECT_EQ(
      api().call("api", "GET", "/api/resources/" + created["resourceId"].get<std::string>(), token).status,
      200);
  SSL_CTX_free(ctx);
  finish(*load, "api-restart", 15s, true);
  EXPECT_LE(failures(*load), kMaxFailuresApi);
  EXPECT_LE(failure_span(*load), kMaxFailureSpan);
  std::printf("[ops] api restart: %zu failed requests (%zu without answer) over %lld ms\n", failures(*load),
              transport_failures(*load), static_cast<long long>(failure_span(*load).count()));
}
