// The pdp's own metrics, which alerts rely on: whether a bundle is active, whether it is the built-in one,
// when the database was last checked, and the decision log's drops and write errors.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>

#include "metrics/registry.hpp"
#include "policy/bundle.hpp"
#include "servers.hpp"
#include "services/pdp/pdp_api.hpp"

using namespace dive;
using namespace std::chrono_literals;

namespace {
double value_of(const metrics::Registry& r, const std::string& series) {
  const std::string text = r.expose();
  auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

class FailingSink final : public policy::DecisionSink {
 public:
  void write(const std::vector<policy::DecisionRecord>&) override {
    ++calls;
    throw std::runtime_error("database unavailable");
  }
  std::atomic<int> calls{0};
};
}  // namespace

TEST(PdpMetrics, SayWhetherABundleIsActiveWhereItCameFromAndWhenItWasChecked) {
  metrics::Registry registry;
  policy::BundleHolder holder;
  services::pdp::PdpApi api(holder, nullptr, registry);
  EXPECT_EQ(value_of(registry, "dive_v3_policy_bundle_loaded"), 0);
  EXPECT_EQ(value_of(registry, "dive_v3_policy_bundle_loads_total{result=\"rejected\"}"), 0);  // there, at 0
  EXPECT_EQ(value_of(registry, "dive_v3_policy_bundle_loads_total{result=\"ok\"}"), 0);
  ASSERT_TRUE(holder.replace(policy::default_bundle()));
  api.bundle_loaded(true);
  api.bundle_source("built-in");
  EXPECT_EQ(value_of(registry, "dive_v3_policy_bundle_loaded"), 1);
  EXPECT_EQ(value_of(registry, "dive_v3_policy_bundle_builtin"), 1);
  api.bundle_source("database (deployment)");
  EXPECT_EQ(value_of(registry, "dive_v3_policy_bundle_builtin"), 0);
  api.bundle_checked(SystemTime{std::chrono::seconds{1'800'000'000}});
  EXPECT_EQ(value_of(registry, "dive_v3_policy_bundle_last_check_timestamp_seconds"), 1.8e9);
  api.bundle_loaded(false);  // a refused bundle: the previous one stays active
  EXPECT_EQ(value_of(registry, "dive_v3_policy_bundle_loaded"), 1);
  EXPECT_EQ(value_of(registry, "dive_v3_policy_bundle_loads_total{result=\"rejected\"}"), 1);
}

TEST(PdpMetrics, CountDecisionLogDropsAndWriteErrors) {
  metrics::Registry registry;
  policy::BundleHolder holder(policy::default_bundle());
  auto sink = std::make_unique<FailingSink>();
  FailingSink* failing = sink.get();
  policy::DecisionLog::Options o;
  o.capacity = 2;
  o.batch = 1;
  o.flush_every = 5ms;
  o.retry_after = 5ms;
  policy::DecisionLog log(std::move(sink), o);
  services::pdp::PdpApi api(holder, &log, registry);
  for (int i = 0; i < 6; ++i) {
    policy::DecisionRecord r;
    r.decided_at_ms = i;
    log.record(r);
  }
  ASSERT_TRUE(dive::testing::wait_until([&] { return failing->calls >= 2; }, 5s));
  registry.expose();  // the collector runs before every exposition
  const auto s = log.stats();
  EXPECT_GT(s.dropped, 0u);
  EXPECT_GE(value_of(registry, "dive_v3_policy_decision_log_dropped_total"), static_cast<double>(s.dropped));
  EXPECT_GE(value_of(registry, "dive_v3_policy_decision_log_write_errors_total"), 2);
  // At most the capacity, plus the batch a failed write puts back in front (policy::DecisionLog: "the queue
  // may briefly exceed its bound").
  EXPECT_LE(value_of(registry, "dive_v3_policy_decision_log_queue"), 2 + 1);
}
