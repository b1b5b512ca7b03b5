// A service's health report runs its checks at most once per 250 ms (a burst of probes, a dashboard and
// the supervisor asking at once cost one round of checks), on the context's clock: tested with a fake one.
#include <gtest/gtest.h>

#include <atomic>

#include "common/clock.hpp"
#include "services/runtime/service_context.hpp"

using namespace dive;
using namespace dive::services;
using namespace std::chrono_literals;

TEST(ServiceContextHealth, ChecksRunAtMostOncePerQuarterSecondOnTheContextsClock) {
  FakeClock clock;
  ServiceContext ctx("monitor", "", Json{{"ports", {{"monitor", 4999}}}}, Json::object(), clock);
  EXPECT_EQ(&ctx.clock(), &clock);
  std::atomic<int> runs{0};
  ctx.add_check("probe", resilience::Impact::Critical, [&] {
    ++runs;
    return resilience::CheckResult{true, "", Json::object()};
  });
  Json first = ctx.health_report();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(first["timestamp"], clock.unix_millis()) << "stamped with the context's clock";
  clock.advance(249ms);
  EXPECT_EQ(ctx.health_report(), first);
  EXPECT_EQ(runs.load(), 1) << "within 250 ms: the cached report";
  clock.advance(1ms);
  Json second = ctx.health_report();
  EXPECT_EQ(runs.load(), 2) << "250 ms later: the checks run again";
  EXPECT_EQ(second["timestamp"].get<int64_t>(), first["timestamp"].get<int64_t>() + 250);
}
