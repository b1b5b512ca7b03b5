// Failure behaviour of a deployed hub: a killed service comes back, a stopped one stays stopped, a crash
// loop backs off exponentially, and the orchestration breaker opens after repeated deploy failures and
// keeps its state across CLI runs.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <regex>

#include <thread>

#include "dive_cli.hpp"
#include "orchestrator/control_socket.hpp"
#include "orchestrator/port_probe.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {
bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

}  // namespace

class HubResilience : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cli_ = new DiveCli({"USA", "QAA"});
    auto r = cli_->run({"hub", "deploy", "--profile", "test"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  static void TearDownTestSuite() {
    delete cli_;
    cli_ = nullptr;
  }
  Json svc(const std::string& name) { return cli_->service_status("USA", name); }
  Json api_health() { return Json::parse(cli_->https_get(cli_->port("USA", "api"), "/health").second); }
  fs::path socket() const { return cli_->home() / "instances" / "usa" / "run" / "supervisor.sock"; }
  static DiveCli* cli_;
};
DiveCli* HubResilience::cli_ = nullptr;

TEST_F(HubResilience, AServiceKilledWithSigkillIsRestartedAndTheHubHeals) {
  Json before = svc("pdp");
  pid_t pid = before["pid"];
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(wait_until(
      [&] {
        Json s = svc("pdp");
        return s["state"] == "running" && s["healthy"] == true && s["pid"] != pid;
      },
      30s))
      << svc("pdp").dump();
  EXPECT_EQ(svc("pdp")["restarts"].get<int>(), before["restarts"].get<int>() + 1);
  EXPECT_TRUE(contains(svc("pdp")["lastExit"].get<std::string>(), "SIGKILL"));
  EXPECT_TRUE(wait_until([&] { return api_health()["status"] == "healthy"; }, 30s)) << api_health().dump();
}

TEST_F(HubResilience, AStoppedServiceStaysStoppedAndStatusSaysSo) {
  int restarts = svc("pdp")["restarts"];
  auto r = cli_->run({"hub", "stop", "pdp"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::this_thread::sleep_for(3s);
  Json s = svc("pdp");
  EXPECT_EQ(s["state"], "stopped");
  EXPECT_TRUE(s["pid"].is_null());
  EXPECT_EQ(s["restarts"], restarts);
  auto human = cli_->run({"hub", "status"});
  EXPECT_TRUE(std::regex_search(human.output, std::regex(R"((^|\n)\s*pdp\s+stopped\b)"))) << human.output;
  // The api cannot decide anything without its pdp: unhealthy, 503.
  auto [code, body] = cli_->https_get(cli_->port("USA", "api"), "/health");
  EXPECT_EQ(code, 503) << body;
  EXPECT_EQ(Json::parse(body)["status"], "unhealthy");
  ASSERT_EQ(cli_->run({"hub", "start", "pdp"}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return api_health()["status"] == "healthy"; }, 30s)) << api_health().dump();
}

TEST_F(HubResilience, ACrashLoopBacksOffExponentially) {
  ASSERT_EQ(cli_->run({"hub", "stop", "pdp"}).exit_code, 0);
  PortSquatter squat(cli_->port("USA", "pdp"));  // the pdp cannot listen: it exits at once, every time
  // Asked directly (the CLI's `start` would wait for health that cannot come).
  auto resp = orch::supervisor_request(socket(), Json{{"cmd", "start"}, {"service", "pdp"}});
  ASSERT_TRUE(resp && (*resp)["ok"] == true);
  std::vector<int64_t> delays;
  wait_until(
      [&] {
        Json s = svc("pdp");
        int64_t d = s.value("backoffMs", int64_t{0});
        if (s["state"] == "crashed" && d > 0 && (delays.empty() || delays.back() != d)) delays.push_back(d);
        return delays.size() >= 4;
      },
      40s, 20ms);
  ASSERT_GE(delays.size(), 4u) << "restart delays seen: " << Json(delays).dump();
  for (size_t i = 1; i < delays.size(); ++i) {
    // Test profile: 200 ms doubling, jitter up to 50 ms, capped at 5 s.
    EXPECT_GT(delays[i], delays[i - 1]) << Json(delays).dump();
    EXPECT_LE(delays[i], 5000);
  }
  EXPECT_GE(delays[3], 1500) << Json(delays).dump();
  const Json crashed = svc("pdp");
  EXPECT_TRUE(crashed["lastExit"].is_string() &&
              contains(crashed["lastExit"].get<std::string>(), "exited with 1"))
      << crashed.dump() << "\n"
      << cli_->run({"hub", "logs", "pdp", "-n", "40"}).output;
  auto log = cli_->run({"hub", "logs", "pdp", "-n", "200"});
  EXPECT_TRUE(contains(log.output, "cannot listen")) << log.output;
  squat.release();
  EXPECT_TRUE(wait_until(
      [&] {
        Json s = svc("pdp");
        return s["state"] == "running" && s["healthy"] == true;
      },
      30s))
      << svc("pdp").dump();
}

TEST_F(HubResilience, TheOrchestrationBreakerOpensAndItsStateSurvivesCliRuns) {
  std::optional<PortSquatter> squat;
  squat.emplace(cli_->port("QAA", "api"));
  for (int i = 1; i <= 5; ++i) {
    auto r = cli_->run({"spoke", "deploy", "QAA", "--profile", "test"});  // each run is a new CLI process
    EXPECT_EQ(r.exit_code, 1) << "attempt " << i << ": " << r.output;
  }
  auto refused = cli_->run({"spoke", "deploy", "QAA", "--profile", "test"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(contains(refused.output, "circuit breaker is OPEN")) << refused.output;
  EXPECT_TRUE(contains(refused.output, "retry in")) << refused.output;
  Json st = cli_->run_json({"orch-db", "status", "--json"});
  bool found = false;
  for (const auto& b : st["breakers"]) {
    if (b["operation"] != "deploy:QAA") continue;
    found = true;
    EXPECT_EQ(b["state"], "OPEN");
    EXPECT_EQ(b["failures"], 5);
  }
  EXPECT_TRUE(found) << st.dump(2);
  // After the cooldown (5 s in the test profile) one trial goes through; it succeeds and closes the breaker.
  squat.reset();
  std::this_thread::sleep_for(5500ms);
  auto ok = cli_->run({"spoke", "deploy", "QAA", "--profile", "test"});
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  st = cli_->run_json({"orch-db", "status", "--json"});
  for (const auto& b : st["breakers"])
    if (b["operation"] == "deploy:QAA") {
      EXPECT_EQ(b["state"], "CLOSED") << b.dump();
    }
  EXPECT_EQ(cli_->run({"nuke", "spoke", "QAA", "--confirm"}).exit_code, 0);
}
