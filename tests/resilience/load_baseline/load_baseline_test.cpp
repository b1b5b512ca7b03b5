// The load driver's self-test (issue 12 §3) on a hub deployed for real (test profile): without a fault the
// load is clean (every op, allows and denies, every acknowledged write still there); a driver whose table is
// wrong reports the disagreement and the leak; errors count only inside a fault window and the driver sees
// the recovery after healing.
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <thread>

#include "api_client.hpp"
#include "dive_cli.hpp"
#include "load_driver.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

class LoadBaseline : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cli_ = std::make_unique<DiveCli>(std::vector<std::string>{"USA"});
    auto r = cli_->run({"hub", "deploy", "--profile", "test"});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    api_ = std::make_unique<ApiClient>(*cli_, "USA");  // shared: a one-time code is accepted once per step
  }
  static void TearDownTestSuite() {
    api_.reset();
    cli_.reset();
  }
  void SetUp() override {
    if (!cli_ || !api_) GTEST_SKIP() << "no hub";
  }

  // The failures `f` raised, intercepted (so they do not fail this test), as one text.
  template <class F>
  static std::string intercepted(F&& f) {
    ::testing::TestPartResultArray results;
    {
      ::testing::ScopedFakeTestPartResultReporter reporter(
          ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ALL_THREADS, &results);
      f();
    }
    std::string text;
    for (int i = 0; i < results.size(); ++i)
      text += std::string(results.GetTestPartResult(i).message()) + "\n";
    return text;
  }

  static std::unique_ptr<DiveCli> cli_;
  static std::unique_ptr<ApiClient> api_;
};
std::unique_ptr<DiveCli> LoadBaseline::cli_;
std::unique_ptr<ApiClient> LoadBaseline::api_;

void print_latencies(const std::vector<LoadSample>& samples) {
  std::map<LoadOp, std::vector<long>> by_op;
  for (const auto& s : samples) by_op[s.op].push_back(static_cast<long>(s.latency().count()));
  for (auto& [op, v] : by_op) {
    std::sort(v.begin(), v.end());
    std::printf("[load] %-6s n=%zu p50=%ld ms p95=%ld ms max=%ld ms\n", to_string(op), v.size(),
                v[v.size() / 2], v[v.size() * 95 / 100], v.back());
  }
  std::fflush(stdout);
}

}  // namespace

TEST_F(LoadBaseline, TenSecondsWithoutAFaultAreCleanWithEveryOpAndBothAnswers) {
  LoadDriver load(*cli_, *api_);
  ASSERT_TRUE(load.prepare());
  EXPECT_EQ(load.corpus_ids().size(), 7u);
  load.start();
  auto rec = load.wait_recovered(5s, 10);  // no fault: the answers are right from now on
  ASSERT_TRUE(rec);
  EXPECT_LE(*rec, 1s);
  // A run long enough to hold every kind of answer many times (~1,100 requests in 10 s on this machine).
  const size_t before = load.count();
  EXPECT_TRUE(wait_until([&] { return load.count() >= before + 800; }, 60s, 100ms)) << load.count();
  load.stop();
  const size_t after_stop = load.count();
  // Without workers wait_recovered issues the requests itself.
  auto rec2 = load.wait_recovered(5s, 5);
  ASSERT_TRUE(rec2);
  EXPECT_GE(load.count(), after_stop + 5);

  EXPECT_TRUE(load.expect_clean(0ms));
  const int acknowledged = load.verify_acknowledged_writes();
  EXPECT_GT(acknowledged, 0);
  EXPECT_EQ(static_cast<size_t>(acknowledged), load.acknowledged_writes());

  const auto samples = load.samples();
  print_latencies(samples);
  std::map<LoadOp, std::map<int, int>> counts;
  for (const auto& s : samples) ++counts[s.op][s.status];
  for (LoadOp op : {LoadOp::Read, LoadOp::Key})
    EXPECT_TRUE(counts[op][200] > 0 && counts[op][403] > 0) << to_string(op) << ": allows and denies";
  EXPECT_GT(counts[LoadOp::List][200], 0);
  EXPECT_GT(counts[LoadOp::Upload][201], 0);
  auto first = std::min_element(samples.begin(), samples.end(),
                                [](const LoadSample& a, const LoadSample& b) { return a.start < b.start; });
  EXPECT_EQ(load.successes_since(first->start), samples.size()) << "all as the table says";
  std::printf("[load] %zu requests, %d acknowledged writes verified\n", samples.size(), acknowledged);
}

TEST_F(LoadBaseline, ADriverWhoseTableIsWrongReportsTheDisagreementAndTheLeak) {
  LoadOptions o;
  o.flip_expectation_for_test = true;  // testuser-usa-3 "may not" read the CONFIDENTIAL document it may read
  o.uploads = false;
  LoadDriver load(*cli_, *api_, o);
  bool prepared = true;
  std::string failures = intercepted([&] { prepared = load.prepare(); });
  EXPECT_FALSE(prepared);
  EXPECT_NE(failures.find("the system disagrees with the table: read by testuser-usa-3 with OTP on "
                          "confidential"),
            std::string::npos)
      << failures;
  EXPECT_NE(failures.find("key for testuser-usa-3 with OTP on confidential"), std::string::npos) << failures;

  load.start();
  auto leaks = [&] {
    auto s = load.samples();
    return std::count_if(s.begin(), s.end(), [](const LoadSample& x) { return x.leak; });
  };
  EXPECT_TRUE(wait_until([&] { return leaks() >= 2; }, 30s, 50ms));
  load.stop();
  bool clean = true;
  failures = intercepted([&] { clean = load.expect_clean(0ms); });
  EXPECT_FALSE(clean);
  EXPECT_NE(failures.find("leak: "), std::string::npos) << failures;
  EXPECT_NE(failures.find("testuser-usa-3+otp"), std::string::npos) << failures;
}

TEST_F(LoadBaseline, ErrorsCountOnlyInsideTheFaultWindowAndRecoveryIsSeen) {
  LoadOptions o;
  o.uploads = false;  // a pdp outage refuses every upload: the point here is the window, not the volume
  LoadDriver load(*cli_, *api_, o);
  ASSERT_TRUE(load.prepare());
  load.start();
  ASSERT_TRUE(load.wait_recovered(10s, 10));
  load.fault_begins();
  ASSERT_EQ(cli_->run({"hub", "stop", "pdp"}).exit_code, 0);
  auto unavailable = [&] {
    auto s = load.samples();
    return std::count_if(s.begin(), s.end(), [](const LoadSample& x) { return x.status == 503; });
  };
  EXPECT_TRUE(wait_until([&] { return unavailable() >= 3; }, 30s, 50ms)) << "nothing uncached is decided";
  ASSERT_EQ(cli_->run({"hub", "start", "pdp"}).exit_code, 0);
  load.fault_ends();
  auto rec = load.wait_recovered(60s);
  load.stop();
  ASSERT_TRUE(rec) << "not recovered within 60 s";
  std::printf("[load] recovered %lld ms after the pdp was started again\n",
              static_cast<long long>(rec->count()));
  EXPECT_TRUE(load.expect_clean(*rec + 5s));
  // The same fault without a window: every 503 is outside it.
  LoadDriver strict(*cli_, *api_, o);
  ASSERT_TRUE(strict.prepare());
  ASSERT_TRUE(strict.wait_recovered(10s, 3));  // no workers: drives a few requests on this thread
  ASSERT_EQ(cli_->run({"hub", "stop", "pdp"}).exit_code, 0);
  strict.start();
  EXPECT_TRUE(wait_until(
      [&] {
        auto s = strict.samples();
        return std::any_of(s.begin(), s.end(), [](const LoadSample& x) { return x.status == 503; });
      },
      30s, 50ms));
  strict.stop();
  ASSERT_EQ(cli_->run({"hub", "start", "pdp"}).exit_code, 0);
  bool clean = true;
  std::string failures = intercepted([&] { clean = strict.expect_clean(60s); });
  EXPECT_FALSE(clean);
  EXPECT_NE(failures.find("error outside the fault window"), std::string::npos) << failures;
  EXPECT_TRUE(wait_until([&] { return cli_->service_status("USA", "pdp")["healthy"] == true; }, 60s));
}
