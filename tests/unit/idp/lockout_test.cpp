#include <gtest/gtest.h>

#include "identity/idp/lockout.hpp"

using namespace dive;
using namespace dive::identity::idp;
using namespace std::chrono_literals;

TEST(Lockout, FiveFailuresLockForFifteenMinutes) {
  FakeClock clock;
  Lockout l(LockoutPolicy{}, clock);
  LockoutState s;
  bool locked_now = false;
  for (int i = 1; i <= 4; ++i) {
    s = l.after_failure(s, &locked_now);
    EXPECT_FALSE(locked_now);
    EXPECT_FALSE(l.is_locked(s)) << i;
  }
  s = l.after_failure(s, &locked_now);
  EXPECT_TRUE(locked_now);
  EXPECT_TRUE(l.is_locked(s));
  clock.advance(14min + 59s);
  EXPECT_TRUE(l.is_locked(s));
  clock.advance(1s);
  EXPECT_FALSE(l.is_locked(s));
}

TEST(Lockout, FailuresDuringALockDoNotExtendIt) {
  FakeClock clock;
  Lockout l(LockoutPolicy{3, 60s}, clock);
  LockoutState s;
  for (int i = 0; i < 3; ++i) s = l.after_failure(s);
  ASSERT_TRUE(l.is_locked(s));
  auto until = s.locked_until_ms;
  clock.advance(30s);
  bool locked_now = true;
  s = l.after_failure(s, &locked_now);
  EXPECT_FALSE(locked_now);
  EXPECT_EQ(s.locked_until_ms, until);
}

TEST(Lockout, AfterALockEndsANewSeriesStarts) {
  FakeClock clock;
  Lockout l(LockoutPolicy{2, 60s}, clock);
  LockoutState s;
  s = l.after_failure(l.after_failure(s));
  ASSERT_TRUE(l.is_locked(s));
  clock.advance(61s);
  s = l.after_failure(s);
  EXPECT_FALSE(l.is_locked(s));
  EXPECT_EQ(s.failures, 1);
  EXPECT_FALSE(s.locked_until_ms);
}

TEST(Lockout, SuccessResetsTheCount) {
  FakeClock clock;
  Lockout l(LockoutPolicy{}, clock);
  LockoutState s = l.after_failure(l.after_failure(LockoutState{}));
  EXPECT_EQ(s.failures, 2);
  EXPECT_EQ(l.after_success(s), LockoutState{});
}
