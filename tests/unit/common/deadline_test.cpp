#include "common/deadline.hpp"

#include <gtest/gtest.h>

#include <thread>

using namespace dive;
using namespace std::chrono_literals;

TEST(RequestDeadline, WithoutADeadlineEveryBoundStands) {
  EXPECT_FALSE(RequestDeadline::current());
  EXPECT_EQ(RequestDeadline::clamp(2000ms), 2000ms);
  const auto t = std::chrono::steady_clock::now() + 1h;
  EXPECT_EQ(RequestDeadline::earliest(t), t);
}

TEST(RequestDeadline, ABoundIsShortenedToTheTimeLeftAndIsZeroOncePassed) {
  {
    RequestDeadline::Scope s(std::chrono::steady_clock::now() + 10s);
    const Millis left = RequestDeadline::clamp(1h);
    EXPECT_GT(left, 0ms);
    EXPECT_LE(left, 10s);
    EXPECT_EQ(RequestDeadline::clamp(100ms), 100ms) << "a shorter bound stays";
    const auto soon = std::chrono::steady_clock::now() + 1s;
    EXPECT_EQ(RequestDeadline::earliest(soon), soon);
  }
  RequestDeadline::Scope passed(std::chrono::steady_clock::now() - 1ms);
  EXPECT_EQ(RequestDeadline::clamp(5000ms), 0ms);
}

TEST(RequestDeadline, ScopesNestAndTheDeadlineBelongsToOneThread) {
  const auto outer = std::chrono::steady_clock::now() + 30s;
  RequestDeadline::Scope a(outer);
  {
    RequestDeadline::Scope b(std::nullopt);
    EXPECT_FALSE(RequestDeadline::current());
  }
  EXPECT_EQ(RequestDeadline::current(), outer);
  bool other_has_one = true;
  std::thread([&] { other_has_one = RequestDeadline::current().has_value(); }).join();
  EXPECT_FALSE(other_has_one);
}
