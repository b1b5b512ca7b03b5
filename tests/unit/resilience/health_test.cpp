#include "resilience/health.hpp"

#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "metrics/registry.hpp"

using namespace dive;
using namespace dive::resilience;
using namespace std::chrono_literals;

namespace {
CheckOutcome outcome(const std::string& name, Impact impact, bool up, bool slow = false) {
  CheckOutcome o;
  o.name = name;
  o.impact = impact;
  o.up = up;
  o.slow = slow;
  return o;
}
}  // namespace

TEST(Health, AggregationRules) {
  EXPECT_EQ(aggregate({outcome("database", Impact::Critical, true), outcome("idp", Impact::Important, true)})
                .status,
            Health::Healthy);
  EXPECT_EQ(aggregate({outcome("database", Impact::Critical, true), outcome("idp", Impact::Important, false)})
                .status,
            Health::Degraded);
  EXPECT_EQ(aggregate({outcome("database", Impact::Critical, false), outcome("idp", Impact::Important, true)})
                .status,
            Health::Unhealthy);
  EXPECT_EQ(aggregate({outcome("pdp", Impact::Critical, true, /*slow=*/true)}).status, Health::Degraded);
  auto r = aggregate({outcome("pdp", Impact::Critical, true)}, {"circuit breaker kas is OPEN"});
  EXPECT_EQ(r.status, Health::Degraded);
  EXPECT_EQ(r.to_json()["reasons"][0], "circuit breaker kas is OPEN");
}

TEST(Health, TheVerdictIsExportedAsMetrics) {
  metrics::Registry registry;
  HealthMetrics m(registry);
  auto has = [&](const std::string& line) {
    return registry.expose().find(line + "\n") != std::string::npos;
  };
  m.publish(
      aggregate({outcome("database", Impact::Critical, true), outcome("idp", Impact::Important, true)}));
  EXPECT_TRUE(has("dive_v3_health_status 0")) << registry.expose();
  EXPECT_TRUE(has("dive_v3_health_check_up{check=\"database\"} 1"));
  m.publish(
      aggregate({outcome("database", Impact::Critical, true), outcome("idp", Impact::Important, false)}));
  EXPECT_TRUE(has("dive_v3_health_status 1"));
  EXPECT_TRUE(has("dive_v3_health_check_up{check=\"idp\"} 0"));
  m.publish(
      aggregate({outcome("database", Impact::Critical, false), outcome("idp", Impact::Important, true)}));
  EXPECT_TRUE(has("dive_v3_health_status 2"));
  EXPECT_TRUE(has("dive_v3_health_check_up{check=\"database\"} 0"));
  EXPECT_TRUE(has("dive_v3_health_check_up{check=\"idp\"} 1"));
}

TEST(Health, ChecksRunInParallelAndTimeOut) {
  // Parallel: the four "slow" probes meet at a rendezvous, each waiting until all four have arrived (bounded
  // below their 2 s timeout). Run one after another, the first would wait alone and report down.
  struct Rendezvous {
    std::mutex mu;
    std::condition_variable cv;
    int arrived = 0;
  };
  auto meet = std::make_shared<Rendezvous>();
  constexpr int kSlow = 4;
  std::vector<CheckSpec> specs;
  for (int i = 0; i < kSlow; ++i)
    specs.push_back(
        {"slow" + std::to_string(i), Impact::Important,
         [meet] {
           std::unique_lock lock(meet->mu);
           ++meet->arrived;
           meet->cv.notify_all();
           const bool all = meet->cv.wait_for(lock, 1800ms, [&] { return meet->arrived >= kSlow; });
           return CheckResult{all, all ? "" : "the other probes never ran alongside", Json::object()};
         },
         2000ms, 1000ms});
  // Stuck: blocks until the test releases it, which it does only after run_checks has returned; its bound
  // (far beyond the 500 ms timeout) only keeps a broken run_checks from hanging the test for ever.
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    bool returned = false;
  };
  auto gate = std::make_shared<Gate>();
  specs.push_back({"stuck", Impact::Critical,
                   [gate] {
                     std::unique_lock lock(gate->mu);
                     gate->cv.wait_for(lock, 10s, [&] { return gate->open; });
                     gate->returned = true;
                     gate->cv.notify_all();
                     return CheckResult{true, "", Json::object()};
                   },
                   500ms, 400ms});
  specs.push_back({"throws", Impact::Important, []() -> CheckResult { throw std::runtime_error("refused"); },
                   500ms, 400ms});
  auto out = run_checks(specs);
  {
    std::unique_lock lock(gate->mu);
    EXPECT_FALSE(gate->returned) << "a stuck check must not hold the report";
    gate->open = true;
    gate->cv.notify_all();
    // Let the detached probe finish before the test ends (it owns nothing of ours but the gate).
    EXPECT_TRUE(gate->cv.wait_for(lock, 10s, [&] { return gate->returned; }));
  }
  ASSERT_EQ(out.size(), 6u);
  for (int i = 0; i < kSlow; ++i)
    EXPECT_TRUE(out[static_cast<size_t>(i)].up) << out[static_cast<size_t>(i)].error;
  EXPECT_FALSE(out[4].up);
  EXPECT_TRUE(out[4].timed_out);
  EXPECT_FALSE(out[5].up);
  EXPECT_EQ(out[5].error, "refused");
  EXPECT_EQ(aggregate(out).status, Health::Unhealthy);
}
