// Supervision faults under load: a killed service comes back, a stopped one stays stopped, a crash loop backs
// off exponentially, a port taken by someone else is named at once, the supervisor itself killed leaves the
// services serving and the next one takes them over, and the orchestration breaker opens after repeated
// deploy failures and keeps its state across CLI runs.
#include <signal.h>
#include <unistd.h>

#include <map>
#include <regex>

#include "ops_fixture.hpp"
#include "orchestrator/control_socket.hpp"
#include "orchestrator/port_probe.hpp"

using namespace dive;
using namespace dive::testing;
using namespace dive::testing::ops;
using namespace std::chrono_literals;

namespace {

class Supervision : public Ops {};

}  // namespace

TEST_F(Supervision, PdpKilledWithSigkillUnderLoadIsRestartedAndServesAgain) {
  auto load = start_load();
  const Json before = svc("pdp");
  const pid_t pid = before["pid"];
  load->fault_begins();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  load->fault_ends();  // a kill heals itself: the recovery is measured from the kill
  ASSERT_TRUE(wait_until(
      [&] {
        Json s = svc("pdp");
        return s["state"] == "running" && s["healthy"] == true && s["pid"] != pid;
      },
      30s))
      << svc("pdp").dump();
  const Json after = svc("pdp");
  EXPECT_EQ(after["restarts"].get<int>(), before["restarts"].get<int>() + 1);
  EXPECT_TRUE(contains(after["lastExit"].get<std::string>(), "SIGKILL")) << after.dump();
  finish(*load, "pdp-sigkill", 15s);
}

TEST_F(Supervision, AStoppedServiceStaysStoppedAndStatusSaysSo) {
  LoadOptions o;
  o.uploads = false;  // every upload needs a decision: with the pdp stopped they are all 503
  auto load = start_load(o);
  const int restarts = svc("pdp")["restarts"];
  load->fault_begins();
  ASSERT_EQ(cli().run({"hub", "stop", "pdp"}).exit_code, 0);
  // A bounded observation window in which any other state (restarted, a pid, a crash) is a failure.
  Json wrong;
  const bool changed = wait_until(
      [&] {
        Json s = svc("pdp");
        if (s["state"] == "stopped" && s["pid"].is_null() && s["restarts"] == restarts) return false;
        wrong = s;
        return true;
      },
      3s, 100ms);
  EXPECT_FALSE(changed) << "the stopped pdp did not stay stopped: " << wrong.dump();
  auto human = cli().run({"hub", "status"});
  EXPECT_TRUE(std::regex_search(human.output, std::regex(R"((^|\n)\s*pdp\s+stopped\b)"))) << human.output;
  // The api cannot decide anything without its pdp: unhealthy, 503 (health reports are cached 250 ms).
  std::pair<int, std::string> health;
  EXPECT_TRUE(wait_until(
      [&] {
        health = cli().https_get(port("api"), "/health");
        return health.first == 503 && contains(health.second, "\"unhealthy\"");
      },
      5s))
      << health.first << " " << health.second;
  ASSERT_EQ(cli().run({"hub", "start", "pdp"}).exit_code, 0);
  load->fault_ends();
  EXPECT_TRUE(wait_until([&] { return api_health().value("status", "") == "healthy"; }, 30s))
      << api_health().dump();
  finish(*load, "pdp-stopped-stays-stopped", 15s);
}

TEST_F(Supervision, ACrashLoopBacksOffExponentially) {
  LoadOptions o;
  o.uploads = false;
  auto load = start_load(o);
  load->fault_begins();
  ASSERT_EQ(cli().run({"hub", "stop", "pdp"}).exit_code, 0);
  std::optional<PortSquatter> squat;
  squat.emplace(port("pdp"));  // the pdp cannot listen: it exits at once, every time
  // Asked directly (the CLI's `start` refuses a taken port, and would wait for health that cannot come).
  ASSERT_TRUE(supervisor_command("start", "pdp"));
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
      << cli().run({"hub", "logs", "pdp", "-n", "40"}).output;
  auto log = cli().run({"hub", "logs", "pdp", "-n", "200"});
  EXPECT_TRUE(contains(log.output, "cannot listen")) << log.output;
  squat.reset();
  EXPECT_TRUE(wait_until(
      [&] {
        Json s = svc("pdp");
        return s["state"] == "running" && s["healthy"] == true;
      },
      30s))
      << svc("pdp").dump();
  load->fault_ends();
  finish(*load, "pdp-crash-loop-backoff", 15s);
}

TEST_F(Supervision, APortTakenAtStartIsNamedAtOnceAndNothingElseIsDisturbed) {
  auto load = start_load();
  std::map<std::string, pid_t> pids;
  const Json st_now = status();  // named: a range-for over a temporary's member would dangle
  for (const auto& s : st_now["services"])
    if (!s["pid"].is_null()) pids[s["name"].get<std::string>()] = s["pid"].get<pid_t>();
  ASSERT_GE(pids.size(), 7u) << st_now.dump();
  const int kas_port = port("kas");
  load->fault_begins();
  ASSERT_EQ(cli().run({"hub", "stop", "kas"}).exit_code, 0);
  const int restarts = svc("kas")["restarts"];
  {
    PortSquatter squat(kas_port);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = cli().run({"hub", "start", "kas"});
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_TRUE(contains(r.output, "port " + std::to_string(kas_port))) << r.output;
    EXPECT_TRUE(contains(r.output, "pid " + std::to_string(::getpid()))) << "names the holder: " << r.output;
    EXPECT_LT(took, 10s) << "refused at once, not after waiting for a health that cannot come";
    const Json k = svc("kas");
    EXPECT_EQ(k["state"], "stopped") << k.dump();
    EXPECT_EQ(k["restarts"], restarts) << "nothing was started";
    // Nothing else was disturbed: the same processes, running and healthy.
    const Json st_now = status();  // named: a range-for over a temporary's member would dangle
    for (const auto& s : st_now["services"]) {
      if (s["name"] == "kas") continue;
      EXPECT_EQ(s["state"], "running") << s.dump();
      EXPECT_EQ(s["healthy"], true) << s.dump();
      EXPECT_EQ(s["pid"], pids[s["name"].get<std::string>()]) << s.dump();
    }
  }
  ASSERT_EQ(cli().run({"hub", "start", "kas"}).exit_code, 0) << "works once the port is free";
  load->fault_ends();
  finish(*load, "kas-port-taken-at-start", 15s);
}

TEST_F(Supervision, TheSupervisorKilledLeavesTheServicesServingAndTheNextOneTakesThemOver) {
  auto load = start_load();
  const Json st = status();
  const pid_t supervisor = st["supervisor"]["pid"];
  std::map<std::string, pid_t> pids;
  for (const auto& s : st["services"]) pids[s["name"].get<std::string>()] = s["pid"].get<pid_t>();
  ASSERT_GE(pids.size(), 7u) << st.dump();
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  ASSERT_TRUE(wait_until([&] { return !status().value("running", true); }, 10s)) << status().dump();
  const Json st_now = status();  // named: a range-for over a temporary's member would dangle
  for (const auto& s : st_now["services"]) {
    EXPECT_EQ(s["state"], "orphaned") << s.dump();
    EXPECT_EQ(s["pid"], pids[s["name"].get<std::string>()]) << s.dump();
  }
  // Unsupervised, the instance keeps serving: the load goes on without a single error (no fault window).
  EXPECT_TRUE(wait_until([&] { return load->successes_since(killed_at) >= 100; }, 30s));
  auto up = cli().run({"hub", "up"});
  ASSERT_EQ(up.exit_code, 0) << up.output;
  const Json after = status();
  EXPECT_TRUE(after.value("running", false));
  EXPECT_NE(after["supervisor"]["pid"], supervisor);
  for (const auto& s : after["services"]) {
    EXPECT_EQ(s["pid"], pids[s["name"].get<std::string>()]) << "taken over, not restarted: " << s.dump();
    EXPECT_EQ(s["adopted"], true) << s.dump();
  }
  // No orphan and no duplicate: one process per service for this hub, the one status reports, on its port.
  for (const std::string name : {"api", "idp", "pdp", "kas", "web"}) {
    EXPECT_EQ(service_processes(cli().home(), name, "USA"), std::vector<pid_t>{pids[name]}) << name;
    auto holder = orch::port_holder(port(name));
    EXPECT_TRUE(holder && holder->pid == pids[name]) << name << ": " << orch::describe_holder(holder);
  }
  EXPECT_EQ(failures(*load), 0u) << "an error while the supervisor was down or taken over";
  // Supervised again: a taken-over child that dies is restarted like any other.
  load->fault_begins();
  ASSERT_EQ(::kill(pids["kas"], SIGKILL), 0);
  load->fault_ends();  // measured from the kill
  ASSERT_TRUE(wait_until(
      [&] {
        Json s = svc("kas");
        return s["state"] == "running" && s["healthy"] == true && s["pid"] != pids["kas"];
      },
      30s))
      << svc("kas").dump();
  EXPECT_EQ(svc("kas")["restarts"], 1);
  EXPECT_EQ(service_processes(cli().home(), "kas", "USA").size(), 1u);
  finish(*load, "supervisor-sigkill", 15s);
}

TEST_F(Supervision, TheOrchestrationBreakerOpensAndItsStateSurvivesCliRuns) {
  // The hub's load runs throughout without a fault window: another instance's failing deploys must not
  // disturb it at all.
  auto load = start_load();
  std::optional<PortSquatter> squat;
  const int qaa_api = cli().port("QAA", "api");
  squat.emplace(qaa_api);
  for (int i = 1; i <= 5; ++i) {
    auto r = cli().run({"spoke", "deploy", "QAA", "--profile", "test"});  // each run is a new CLI process
    EXPECT_EQ(r.exit_code, 1) << "attempt " << i << ": " << r.output;
    if (i == 1) {
      EXPECT_TRUE(contains(r.output, "port " + std::to_string(qaa_api))) << r.output;
      EXPECT_TRUE(contains(r.output, "pid " + std::to_string(::getpid()))) << r.output;
    }
  }
  auto refused = cli().run({"spoke", "deploy", "QAA", "--profile", "test"});
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_TRUE(contains(refused.output, "circuit breaker is OPEN")) << refused.output;
  EXPECT_TRUE(contains(refused.output, "retry in")) << refused.output;
  auto breaker = [&]() -> Json {
    Json st = cli().run_json({"orch-db", "status", "--json"});
    for (const auto& b : st["breakers"])
      if (b["operation"] == "deploy:QAA") return b;
    return Json();
  };
  Json b = breaker();
  EXPECT_EQ(b["state"], "OPEN") << b.dump();
  EXPECT_EQ(b["failures"], 5) << b.dump();
  // Once the cooldown (5 s in the test profile) has passed, one trial goes through; it succeeds and closes
  // the breaker. Retried until it is no longer refused, bounded by the cooldown and a margin.
  squat.reset();
  RunResult ok;
  EXPECT_TRUE(wait_until(
      [&] {
        ok = cli().run({"spoke", "deploy", "QAA", "--profile", "test"});
        return ok.exit_code != 2;
      },
      15s, 250ms))
      << ok.output;
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_EQ(breaker()["state"], "CLOSED") << breaker().dump();
  EXPECT_EQ(cli().run({"nuke", "spoke", "QAA", "--confirm"}).exit_code, 0);
  finish(*load, "orchestration-breaker", 5s);
}
