// The supervisor's time-driven decisions about one child (restart backoff, readiness deadline, probe
// cadence, liveness, stop grace) over a fake clock: the schedules are checked to the millisecond and nothing
// sleeps.
#include "orchestrator/child_schedule.hpp"

#include <gtest/gtest.h>

using namespace dive;
using namespace dive::orch;
using namespace std::chrono_literals;

namespace {

SupervisionTimings timings() {
  SupervisionTimings t;
  t.health_interval = 2000ms;
  t.ready_timeout = 60000ms;
  t.stable_after = 30000ms;
  t.stop_grace = 10000ms;
  t.restart = {1000ms, 2.0, 30000ms, 0ms};  // no jitter: exact delays
  t.liveness_failures = 6;
  return t;
}

}  // namespace

TEST(ChildSchedule, ACrashLoopBacksOffExponentiallyToTheCap) {
  FakeClock clock;
  ChildSchedule s(timings());
  std::vector<int64_t> delays;
  for (int i = 0; i < 8; ++i) {
    s.started(clock.now());
    clock.advance(5ms);  // it dies at once
    const Millis d = s.crashed(clock.now());
    delays.push_back(d.count());
    EXPECT_EQ(s.last_delay(), d);
    EXPECT_FALSE(s.restart_due(clock.now()));
    EXPECT_EQ(s.restart_in(clock.now()), d);
    clock.advance(d - 1ms);
    EXPECT_FALSE(s.restart_due(clock.now())) << "one millisecond early, restart #" << i;
    clock.advance(1ms);
    EXPECT_TRUE(s.restart_due(clock.now())) << "restart #" << i;
    EXPECT_EQ(s.restart_in(clock.now()), 0ms);
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000}));
  EXPECT_EQ(s.backoff_failures(), 8);
}

TEST(ChildSchedule, JitterStaysWithinItsBoundAndUnderTheCap) {
  FakeClock clock;
  SeededRandom rng(7);
  auto t = timings();
  t.restart.max_jitter = 250ms;
  ChildSchedule s(t, rng);
  int64_t base = 1000;
  for (int i = 0; i < 10; ++i) {
    const int64_t d = s.crashed(clock.now()).count();
    EXPECT_GE(d, std::min<int64_t>(base, 30000)) << i;
    EXPECT_LE(d, std::min<int64_t>(base + 250, 30000)) << i;
    base *= 2;
  }
}

TEST(ChildSchedule, HealthyForStableAfterStartsTheBackoffOver) {
  FakeClock clock;
  ChildSchedule s(timings());
  s.crashed(clock.now());
  s.crashed(clock.now());
  EXPECT_EQ(s.backoff_failures(), 2);
  s.started(clock.now());
  clock.advance(400ms);
  s.ready(clock.now());
  s.running(clock.now(), true);
  clock.advance(29999ms);
  s.running(clock.now(), true);
  EXPECT_EQ(s.backoff_failures(), 2) << "not yet stable";
  // A moment of ill health starts the stable window over.
  s.running(clock.now(), false);
  clock.advance(20000ms);
  s.running(clock.now(), true);
  clock.advance(9999ms);
  s.running(clock.now(), true);
  EXPECT_EQ(s.backoff_failures(), 2) << "healthy for 29.999 s since it was last unhealthy";
  clock.advance(1ms);
  s.running(clock.now(), true);
  EXPECT_EQ(s.backoff_failures(), 0) << "healthy for 30 s: the backoff starts over";
  EXPECT_EQ(s.crashed(clock.now()), 1000ms);
}

TEST(ChildSchedule, AStartingChildHasReadyTimeoutToBeReady) {
  FakeClock clock;
  ChildSchedule s(timings());
  s.started(clock.now());
  EXPECT_EQ(s.started_at(), clock.now());
  clock.advance(59999ms);
  EXPECT_FALSE(s.ready_overdue(clock.now()));
  clock.advance(1ms);
  EXPECT_TRUE(s.ready_overdue(clock.now()));
  s.started(clock.now());  // a new process: a new deadline
  EXPECT_FALSE(s.ready_overdue(clock.now()));
}

TEST(ChildSchedule, ProbesEvery150MsWhileStartingThenEveryHealthInterval) {
  FakeClock clock;
  ChildSchedule s(timings());
  s.started(clock.now());
  EXPECT_TRUE(s.probe_due(clock.now(), true)) << "a new process is probed at once";
  EXPECT_FALSE(s.probe_due(clock.now(), true));
  clock.advance(149ms);
  EXPECT_FALSE(s.probe_due(clock.now(), true));
  clock.advance(1ms);
  EXPECT_TRUE(s.probe_due(clock.now(), true));
  clock.advance(1999ms);
  EXPECT_FALSE(s.probe_due(clock.now(), false)) << "running: every health_interval";
  clock.advance(1ms);
  EXPECT_TRUE(s.probe_due(clock.now(), false));
  EXPECT_FALSE(s.probe_due(clock.now(), false));
  s.started(clock.now());
  EXPECT_TRUE(s.probe_due(clock.now(), true)) << "restarted: probed at once again";
}

TEST(ChildSchedule, LivenessFailuresInARowGetTheProcessKilled) {
  ChildSchedule s(timings());
  for (int i = 0; i < 5; ++i) {
    s.liveness(false);
    EXPECT_FALSE(s.liveness_exhausted()) << i;
  }
  s.liveness(true);  // one answer starts the count over
  for (int i = 0; i < 5; ++i) s.liveness(false);
  EXPECT_FALSE(s.liveness_exhausted());
  s.liveness(false);
  EXPECT_TRUE(s.liveness_exhausted()) << "six in a row";
  EXPECT_FALSE(s.liveness_exhausted()) << "the count starts over once it has said kill";
  for (int i = 0; i < 5; ++i) s.liveness(false);
  FakeClock clock;
  s.started(clock.now());  // a new process starts with a clean count
  s.liveness(false);
  EXPECT_FALSE(s.liveness_exhausted());
}

TEST(ChildSchedule, AChildThatDoesNotStopIsKilledAfterEachGrace) {
  FakeClock clock;
  ChildSchedule s(timings());
  s.stopping(clock.now());
  clock.advance(9999ms);
  EXPECT_FALSE(s.stop_overdue(clock.now()));
  clock.advance(1ms);
  EXPECT_TRUE(s.stop_overdue(clock.now()));
  EXPECT_FALSE(s.stop_overdue(clock.now())) << "once per grace";
  clock.advance(10000ms);
  EXPECT_TRUE(s.stop_overdue(clock.now()));
}

TEST(ChildSchedule, AStartRequestIsDueAtOnceWithTheBackoffStartedOver) {
  FakeClock clock;
  ChildSchedule s(timings());
  for (int i = 0; i < 4; ++i) s.crashed(clock.now());
  EXPECT_FALSE(s.restart_due(clock.now()));
  s.start_requested(clock.now());
  EXPECT_TRUE(s.restart_due(clock.now()));
  EXPECT_EQ(s.backoff_failures(), 0);
  EXPECT_EQ(s.crashed(clock.now()), 1000ms);
  s.reset_backoff();
  EXPECT_EQ(s.crashed(clock.now()), 1000ms);
}

TEST(ChildSchedule, AGracefulRestartsSuccessorStartsItsUptimeAndLivenessOver) {
  FakeClock clock;
  ChildSchedule s(timings());
  s.started(clock.now());
  clock.advance(5000ms);
  for (int i = 0; i < 5; ++i) s.liveness(false);
  s.replaced(clock.now());
  EXPECT_EQ(s.started_at(), clock.now());
  s.liveness(false);
  EXPECT_FALSE(s.liveness_exhausted());
}
