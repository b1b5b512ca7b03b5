#include "resilience/health.hpp"

#include <gtest/gtest.h>

#include <thread>

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
  std::vector<CheckSpec> specs;
  for (int i = 0; i < 4; ++i)
    specs.push_back({"slow" + std::to_string(i), Impact::Important,
                     [] {
                       std::this_thread::sleep_for(300ms);
                       return CheckResult{true, "", Json::object()};
                     },
                     2000ms, 1000ms});
  specs.push_back({"stuck", Impact::Critical,
                   [] {
                     std::this_thread::sleep_for(3s);
                     return CheckResult{true, "", Json::object()};
                   },
                   500ms, 400ms});
  specs.push_back({"throws", Impact::Important, []() -> CheckResult { throw std::runtime_error("refused"); },
                   500ms, 400ms});
  auto start = std::chrono::steady_clock::now();
  auto out = run_checks(specs);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 1500ms) << "checks must run in parallel and a stuck one must not hold the report";
  ASSERT_EQ(out.size(), 6u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(out[static_cast<size_t>(i)].up);
  EXPECT_FALSE(out[4].up);
  EXPECT_TRUE(out[4].timed_out);
  EXPECT_FALSE(out[5].up);
  EXPECT_EQ(out[5].error, "refused");
  EXPECT_EQ(aggregate(out).status, Health::Unhealthy);
}
