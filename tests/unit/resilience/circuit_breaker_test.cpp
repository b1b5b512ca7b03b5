#include "resilience/circuit_breaker.hpp"

#include <gtest/gtest.h>

#include "metrics/registry.hpp"

using namespace dive;
using namespace dive::resilience;
using namespace std::chrono_literals;

namespace {
BreakerConfig cfg(int fail = 3, Millis timeout = 1000ms, int succ = 2, int probes = 0) {
  BreakerConfig c;
  c.failure_threshold = fail;
  c.open_timeout = timeout;
  c.success_threshold = succ;
  c.half_open_max_probes = probes;
  return c;
}
void fail(CircuitBreaker& cb) {
  auto p = cb.try_acquire();
  ASSERT_TRUE(p);
  p->failure("boom");
}
void succeed(CircuitBreaker& cb) {
  auto p = cb.try_acquire();
  ASSERT_TRUE(p);
  p->success();
}
}  // namespace

TEST(CircuitBreaker, OpensAfterConsecutiveFailuresOnly) {
  FakeClock clock;
  CircuitBreaker cb("pdp", cfg(3), clock);
  fail(cb);
  fail(cb);
  succeed(cb);  // resets the consecutive count
  fail(cb);
  fail(cb);
  EXPECT_EQ(cb.state(), BreakerState::Closed);
  fail(cb);
  EXPECT_EQ(cb.state(), BreakerState::Open);
}

TEST(CircuitBreaker, OpenRejectsUntilTimeoutSinceLastFailure) {
  FakeClock clock;
  CircuitBreaker cb("pdp", cfg(1, 1000ms), clock);
  fail(cb);
  EXPECT_FALSE(cb.try_acquire());
  clock.advance(999ms);
  EXPECT_FALSE(cb.try_acquire());
  auto s = cb.snapshot();
  EXPECT_EQ(s.rejects, 2u);
  EXPECT_EQ(s.retry_after, 1ms);
  clock.advance(1ms);
  EXPECT_EQ(cb.state(), BreakerState::HalfOpen);
}

TEST(CircuitBreaker, HalfOpenBoundsProbesAndClosesAfterSuccesses) {
  FakeClock clock;
  CircuitBreaker cb("idp", cfg(1, 100ms, 2, 1), clock);
  fail(cb);
  clock.advance(100ms);
  auto p1 = cb.try_acquire();
  ASSERT_TRUE(p1);
  EXPECT_FALSE(cb.try_acquire()) << "only one probe at a time";
  p1->success();
  EXPECT_EQ(cb.state(), BreakerState::HalfOpen);
  succeed(cb);
  EXPECT_EQ(cb.state(), BreakerState::Closed);
}

TEST(CircuitBreaker, ProbeFailureReopens) {
  FakeClock clock;
  CircuitBreaker cb("kas", cfg(2, 100ms, 2), clock);
  fail(cb);
  fail(cb);
  clock.advance(150ms);
  fail(cb);  // the probe
  EXPECT_EQ(cb.state(), BreakerState::Open);
  EXPECT_FALSE(cb.try_acquire());
  clock.advance(100ms);
  EXPECT_EQ(cb.state(), BreakerState::HalfOpen);
}

TEST(CircuitBreaker, AbandonedPermitCountsAsFailure) {
  FakeClock clock;
  CircuitBreaker cb("db", cfg(1), clock);
  { auto p = cb.try_acquire(); }
  EXPECT_EQ(cb.state(), BreakerState::Open);
}

TEST(CircuitBreaker, StaleResultsDoNotCloseAReopenedBreaker) {
  FakeClock clock;
  CircuitBreaker cb("x", cfg(1, 100ms, 1), clock);
  auto slow = cb.try_acquire();  // started while closed
  fail(cb);                      // opens
  clock.advance(100ms);
  ASSERT_EQ(cb.state(), BreakerState::HalfOpen);
  slow->success();  // a result from before the breaker opened
  EXPECT_EQ(cb.state(), BreakerState::HalfOpen);
}

TEST(CircuitBreaker, RunWrapsCallsAndThrowsWhenOpen) {
  FakeClock clock;
  CircuitBreaker cb("x", cfg(1, 1000ms), clock);
  EXPECT_EQ(cb.run([] { return 7; }), 7);
  EXPECT_THROW(cb.run([]() -> int { throw std::runtime_error("down"); }), std::runtime_error);
  try {
    cb.run([] { return 1; });
    FAIL();
  } catch (const BreakerOpenError& e) {
    EXPECT_EQ(e.retry_after(), 1000ms);
  }
  auto s = cb.snapshot();
  EXPECT_EQ(s.last_failure, "down");
  EXPECT_EQ(s.to_json()["state"], "OPEN");
}

TEST(CircuitBreaker, ExportsStateFailuresRejectsAndTransitions) {
  FakeClock clock;
  metrics::Registry reg;
  CircuitBreaker cb("pdp", cfg(2, 100ms, 1), clock, &reg);
  // Before anything happened every transition is there at 0 (increase() must see the first one).
  for (const char* t :
       {"from_state=\"CLOSED\",to_state=\"OPEN\"", "from_state=\"OPEN\",to_state=\"HALF_OPEN\"",
        "from_state=\"HALF_OPEN\",to_state=\"CLOSED\"", "from_state=\"HALF_OPEN\",to_state=\"OPEN\""})
    EXPECT_NE(reg.expose().find(std::string("dive_v3_circuit_breaker_transitions_total{service=\"pdp\",") +
                                t + "} 0\n"),
              std::string::npos)
        << t;
  std::vector<std::string> seen;
  cb.on_transition([&](BreakerState f, BreakerState t) {
    seen.push_back(std::string(to_string(f)) + ">" + to_string(t));
  });
  fail(cb);
  fail(cb);
  cb.try_acquire();
  auto text = reg.expose();
  EXPECT_NE(text.find("dive_v3_circuit_breaker_state{service=\"pdp\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("dive_v3_circuit_breaker_failures{service=\"pdp\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("dive_v3_circuit_breaker_rejects_total{service=\"pdp\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("dive_v3_circuit_breaker_transitions_total{service=\"pdp\",from_state=\"CLOSED\",to_"
                      "state=\"OPEN\"} 1"),
            std::string::npos);
  clock.advance(100ms);
  succeed(cb);
  EXPECT_EQ(seen, (std::vector<std::string>{"CLOSED>OPEN", "OPEN>HALF_OPEN", "HALF_OPEN>CLOSED"}));
  EXPECT_NE(reg.expose().find("dive_v3_circuit_breaker_state{service=\"pdp\"} 0\n"), std::string::npos);
}
