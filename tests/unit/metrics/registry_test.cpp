#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace dive::metrics;

namespace {
bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}
}  // namespace

TEST(Metrics, CounterGaugeExposition) {
  Registry r;
  r.counter("dive_v3_requests_total", "Requests", {"route", "status"}).labels({"/a", "200"}).inc();
  r.counter("dive_v3_requests_total", "Requests", {"route", "status"}).labels({"/a", "200"}).inc(2);
  r.gauge("dive_v3_pool_size", "Pool size").unlabelled().set(3.5);
  auto text = r.expose();
  EXPECT_TRUE(
      contains(text, "# HELP dive_v3_requests_total Requests\n# TYPE dive_v3_requests_total counter\n"));
  EXPECT_TRUE(contains(text, "dive_v3_requests_total{route=\"/a\",status=\"200\"} 3\n"));
  EXPECT_TRUE(contains(text, "# TYPE dive_v3_pool_size gauge\ndive_v3_pool_size 3.5\n"));
}

TEST(Metrics, HistogramBucketsAreCumulative) {
  Registry r;
  auto& h = r.histogram("dive_v3_latency_seconds", "Latency", {"op"}, {0.1, 1, 10}).labels({"x"});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(0.5);
  h.observe(100);
  auto text = r.expose();
  EXPECT_TRUE(contains(text, "dive_v3_latency_seconds_bucket{op=\"x\",le=\"0.1\"} 1\n"));
  EXPECT_TRUE(contains(text, "dive_v3_latency_seconds_bucket{op=\"x\",le=\"1\"} 3\n"));
  EXPECT_TRUE(contains(text, "dive_v3_latency_seconds_bucket{op=\"x\",le=\"10\"} 3\n"));
  EXPECT_TRUE(contains(text, "dive_v3_latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 4\n"));
  EXPECT_TRUE(contains(text, "dive_v3_latency_seconds_count{op=\"x\"} 4\n"));
  EXPECT_TRUE(contains(text, "dive_v3_latency_seconds_sum{op=\"x\"} 101.05\n"));
}

TEST(Metrics, LabelValuesAndHelpAreEscaped) {
  Registry r;
  r.counter("dive_v3_x_total", "line1\nback\\slash", {"v"}).labels({"a\"b\\c\nd"}).inc();
  auto text = r.expose();
  EXPECT_TRUE(contains(text, "# HELP dive_v3_x_total line1\\nback\\\\slash\n"));
  EXPECT_TRUE(contains(text, "dive_v3_x_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"));
}

TEST(Metrics, ConflictingRegistrationAndWrongLabelCountThrow) {
  Registry r;
  r.counter("dive_v3_a_total", "a", {"x"});
  EXPECT_NO_THROW(r.counter("dive_v3_a_total", "a", {"x"}));
  EXPECT_THROW(r.gauge("dive_v3_a_total", "a", {"x"}), std::logic_error);
  EXPECT_THROW(r.counter("dive_v3_a_total", "a", {"y"}), std::logic_error);
  EXPECT_THROW(r.counter("dive_v3_a_total", "a", {"x"}).labels({"1", "2"}), std::invalid_argument);
}

TEST(Metrics, CollectorsRunBeforeExposition) {
  Registry r;
  auto& g = r.gauge("dive_v3_sampled", "sampled").unlabelled();
  int calls = 0;
  r.add_collector([&] { g.set(++calls); });
  EXPECT_TRUE(contains(r.expose(), "dive_v3_sampled 1\n"));
  EXPECT_TRUE(contains(r.expose(), "dive_v3_sampled 2\n"));
}

TEST(Metrics, ConcurrentIncrementsAreNotLost) {
  Registry r;
  auto& c = r.counter("dive_v3_c_total", "c").unlabelled();
  auto& h = r.histogram("dive_v3_h", "h", {}, {1}).unlabelled();
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.inc();
        h.observe(0.5);
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(c.value(), 40000);
  EXPECT_EQ(h.count(), 40000u);
}

TEST(Metrics, SpecialValues) {
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(0.0 / 0.0 * -1), "NaN");
  EXPECT_EQ(format_value(42), "42");
}
