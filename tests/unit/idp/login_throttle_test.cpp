// The abuse limits on login attempts with a fake clock: the global in-flight cap, per-account concurrency
// and failures, per-source failures (in-flight attempts counted), the window, Retry-After and the bound
// on what is remembered.
#include "identity/idp/login_throttle.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace dive;
using namespace dive::identity::idp;
using namespace std::chrono_literals;
using Limit = LoginThrottle::Limit;

namespace {
ThrottleConfig small() {
  ThrottleConfig c;
  c.max_in_flight = 4;
  c.account_in_flight = 2;
  c.account_failures = 3;
  c.source_failures = 5;
  c.window = 60s;
  c.max_tracked = 8;
  return c;
}
}  // namespace

TEST(LoginThrottle, AdmitsWithinTheLimitsAndReleasesOnTheTicketsEnd) {
  FakeClock clock;
  LoginThrottle t(small(), clock);
  {
    auto a = t.admit("alice", "10.0.0.1");
    ASSERT_TRUE(a.ticket);
    EXPECT_EQ(a.limit, Limit::None);
    EXPECT_EQ(t.in_flight(), 1);
  }
  EXPECT_EQ(t.in_flight(), 0);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(t.admit("alice", "10.0.0.1").ticket) << "successes never count";
}

TEST(LoginThrottle, TheWholeIdpHasAnInFlightCapSoWorkersStayFree) {
  FakeClock clock;
  LoginThrottle t(small(), clock);
  std::vector<std::unique_ptr<LoginThrottle::Ticket>> held;
  for (int i = 0; i < 4; ++i)
    held.push_back(t.admit("u" + std::to_string(i), "s" + std::to_string(i)).ticket);
  auto busy = t.admit("other", "elsewhere");
  EXPECT_FALSE(busy.ticket);
  EXPECT_EQ(busy.limit, Limit::Busy);
  EXPECT_EQ(busy.retry_after_s, 1);
  held.pop_back();
  EXPECT_TRUE(t.admit("other", "elsewhere").ticket);
}

TEST(LoginThrottle, OneAccountGetsTwoAttemptsAtOnceAndThreeFailuresAMinute) {
  FakeClock clock;
  LoginThrottle t(small(), clock);
  auto a = t.admit("bob", "10.0.0.1");
  auto b = t.admit("bob", "10.0.0.2");
  ASSERT_TRUE(a.ticket && b.ticket);
  auto c = t.admit("bob", "10.0.0.3");
  EXPECT_FALSE(c.ticket);
  EXPECT_EQ(c.limit, Limit::Account);
  a.ticket->failed();
  b.ticket->failed();
  a.ticket.reset();
  b.ticket.reset();
  clock.advance(10s);
  auto d = t.admit("bob", "10.0.0.4");
  ASSERT_TRUE(d.ticket);
  d.ticket->failed();
  d.ticket.reset();
  auto e = t.admit("bob", "10.0.0.5");  // three failures within the minute, from three sources
  EXPECT_FALSE(e.ticket);
  EXPECT_EQ(e.limit, Limit::Account);
  EXPECT_EQ(e.retry_after_s, 51) << "until the oldest failure leaves the window (60 - 10, rounded up)";
  EXPECT_TRUE(t.admit("carol", "10.0.0.5").ticket) << "other accounts are not affected";
  clock.advance(51s);
  EXPECT_TRUE(t.admit("bob", "10.0.0.5").ticket);
}

TEST(LoginThrottle, ASourceIsCutOffCountingItsAttemptsInFlight) {
  FakeClock clock;
  LoginThrottle t(small(), clock);
  // A burst of concurrent guesses over many accounts: the sixth is refused before anything was evaluated.
  std::vector<std::unique_ptr<LoginThrottle::Ticket>> held;
  for (int i = 0; i < 4; ++i) held.push_back(t.admit("acct" + std::to_string(i), "10.9.9.9").ticket);
  for (auto& h : held) ASSERT_TRUE(h);
  for (auto& h : held) h->failed();
  held.clear();
  auto fifth = t.admit("acct4", "10.9.9.9");
  ASSERT_TRUE(fifth.ticket);
  auto sixth = t.admit("acct5", "10.9.9.9");
  EXPECT_FALSE(sixth.ticket);
  EXPECT_EQ(sixth.limit, Limit::Source);
  fifth.ticket.reset();  // a success: it does not count
  EXPECT_TRUE(t.admit("acct5", "10.9.9.9").ticket);
  EXPECT_TRUE(t.admit("acct5", "10.1.1.1").ticket) << "other sources are not affected";
}

TEST(LoginThrottle, MemoryIsBoundedAndBusyEntriesAreKept) {
  FakeClock clock;
  LoginThrottle t(small(), clock);
  auto held = t.admit("keep", "keep-src");
  ASSERT_TRUE(held.ticket);
  for (int i = 0; i < 100; ++i) {
    auto a = t.admit("user" + std::to_string(i), "src" + std::to_string(i));
    ASSERT_TRUE(a.ticket) << i;
    a.ticket->failed();
  }
  held.ticket.reset();  // its entries were not dropped while it was in flight: releasing them is safe
  EXPECT_EQ(t.in_flight(), 0);
}

TEST(LoginThrottle, ConfigurationFromInstanceJson) {
  auto c = ThrottleConfig::from_json(Json{{"max_in_flight", 3}, {"source_failures", 50}, {"window_s", 30}});
  EXPECT_EQ(c.max_in_flight, 3);
  EXPECT_EQ(c.source_failures, 50);
  EXPECT_EQ(c.window, 30s);
  EXPECT_EQ(c.account_in_flight, ThrottleConfig{}.account_in_flight);
  EXPECT_THROW(ThrottleConfig::from_json(Json{{"max_in_flight", 0}}), std::invalid_argument);
  EXPECT_THROW(ThrottleConfig::from_json(Json{{"window_s", "60"}}), std::invalid_argument);
  EXPECT_EQ(to_string(Limit::Source), "source");
}
