#include "resilience/retry.hpp"

#include <gtest/gtest.h>

using namespace dive;
using namespace dive::resilience;
using namespace std::chrono_literals;

namespace {
// Always returns the same value, so jitter is predictable.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(uint64_t v) : v_(v) {}
  uint64_t next_u64() override { return v_; }

 private:
  uint64_t v_;
};
}  // namespace

TEST(Backoff, DoublesUpToTheCapWithoutJitter) {
  FixedRandom r(0);
  Backoff b({2000ms, 2.0, 60000ms, 0ms}, r);
  std::vector<int64_t> got;
  for (int i = 0; i < 8; ++i) got.push_back(b.next().count());
  EXPECT_EQ(got, (std::vector<int64_t>{2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000}));
  b.reset();
  EXPECT_EQ(b.next(), 2000ms);
}

TEST(Backoff, JitterIsBoundedAndTheCapHolds) {
  SeededRandom r(7);
  Backoff b({100ms, 2.0, 1000ms, 50ms}, r);
  for (int i = 0; i < 50; ++i) {
    auto d = b.next();
    auto base = std::min<int64_t>(100LL << std::min(i, 20), 1000);
    EXPECT_GE(d.count(), base);
    EXPECT_LE(d.count(), std::min<int64_t>(base + 50, 1000));
  }
}

TEST(Retry, RetriesUntilSuccessAndReportsEachDelay) {
  FixedRandom r(0);
  std::vector<Millis> slept;
  int calls = 0;
  RetryHooks hooks;
  hooks.sleep = [&](Millis d) { slept.push_back(d); };
  int v = retry(
      RetryPolicy{5, {2000ms, 2.0, 60000ms, 0ms}},
      [&] {
        if (++calls < 3) throw std::runtime_error("transient");
        return 42;
      },
      hooks, r);
  EXPECT_EQ(v, 42);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(slept, (std::vector<Millis>{2000ms, 4000ms}));
}

TEST(Retry, GivesUpAfterMaxAttemptsWithTheLastError) {
  FixedRandom r(0);
  int calls = 0;
  RetryHooks hooks;
  hooks.sleep = [](Millis) {};
  EXPECT_THROW(retry(
                   RetryPolicy{5, {}},
                   [&]() -> int {
                     ++calls;
                     throw std::runtime_error("down");
                   },
                   hooks, r),
               std::runtime_error);
  EXPECT_EQ(calls, 5);
}

TEST(Retry, NonRetryableErrorsStopAtOnce) {
  int calls = 0;
  RetryHooks hooks;
  hooks.sleep = [](Millis) {};
  hooks.retryable = [](const std::exception& e) { return std::string(e.what()) != "permanent"; };
  EXPECT_THROW(retry(
                   RetryPolicy{5, {}},
                   [&]() -> int {
                     ++calls;
                     throw std::runtime_error("permanent");
                   },
                   hooks),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
}
