// The audit sink over a fake writer and a fake clock: batches in order, never blocking the recorder, a full
// queue counted and logged (never silent), an outage kept and retried in order, a refused event isolated.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "audit/sink.hpp"
#include "metrics/registry.hpp"
#include "servers.hpp"
#include "store/pg_pool.hpp"

using namespace dive;
using namespace dive::audit;
using namespace std::chrono_literals;

namespace {

// Records what it is given; fails like an outage while `down`, refuses batches holding a "poison" event.
class FakeWriter final : public BatchWriter {
 public:
  void write(std::span<const Event> batch) override {
    std::unique_lock lock(mu);
    ++calls;
    if (block) cv.wait(lock, [&] { return !block; });
    if (down) throw store::PgUnavailable("connection refused");
    for (const auto& e : batch)
      if (e.reason == "poison") throw std::runtime_error("value too long for type");
    for (const auto& e : batch) written.push_back(e);
    batches.push_back(batch.size());
  }
  std::vector<std::string> types() {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (const auto& e : written) out.push_back(e.type);
    return out;
  }
  size_t count() {
    std::lock_guard lock(mu);
    return written.size();
  }
  void set_down(bool d) {
    std::lock_guard lock(mu);
    down = d;
  }
  void set_block(bool b) {
    {
      std::lock_guard lock(mu);
      block = b;
    }
    cv.notify_all();
  }

  std::mutex mu;
  std::condition_variable cv;
  std::vector<Event> written;
  std::vector<size_t> batches;
  int calls = 0;
  bool down = false, block = false;
};

// Hands batches to a FakeWriter the test owns (the sink owns its writer, and the test looks at what was
// written after the sink is gone).
class Forward final : public BatchWriter {
 public:
  explicit Forward(FakeWriter& to) : to_(to) {}
  void write(std::span<const Event> batch) override { to_.write(batch); }

 private:
  FakeWriter& to_;
};

Event ev(const std::string& type, const std::string& reason = "") {
  Event e;
  e.type = type;
  e.outcome = kAllow;
  e.reason = reason;
  return e;
}

SinkOptions options(size_t capacity = 100, size_t batch = 10) {
  SinkOptions o;
  o.service = "api";
  o.capacity = capacity;
  o.batch = batch;
  o.max_batch = batch;
  o.flush_every = 20ms;
  o.retry = {5ms, 2.0, 20ms, 0ms};
  return o;
}

double metric(metrics::Registry& reg, const std::string& line) {
  std::string text = reg.expose();
  auto at = text.find("\n" + line + " ");
  if (at != std::string::npos) ++at;
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + line.size() + 1));
}

// A fake clock, a registry and a writer that outlive the sinks a test makes.
class AuditSinkTest : public ::testing::Test {
 protected:
  std::unique_ptr<AuditSink> make(SinkOptions o = options()) {
    return std::make_unique<AuditSink>(std::make_unique<Forward>(writer), o, clock, &reg);
  }
  FakeClock clock;
  metrics::Registry reg;
  FakeWriter writer;
  FakeWriter* fake = &writer;
};

}  // namespace

TEST_F(AuditSinkTest, WritesEverythingInOrderStampedByItsClock) {
  auto owned = make();
  AuditSink& sink = *owned;
  for (int i = 0; i < 25; ++i) sink.record(ev("t.e" + std::to_string(i % 3)));
  ASSERT_TRUE(sink.flush(5s));
  ASSERT_EQ(fake->count(), 25u);
  std::lock_guard lock(fake->mu);
  for (int i = 0; i < 25; ++i) {
    EXPECT_EQ(fake->written[i].type, "t.e" + std::to_string(i % 3));
    EXPECT_EQ(fake->written[i].at_ms, clock.unix_millis());
    EXPECT_EQ(fake->written[i].service, "api");
  }
  for (size_t b : fake->batches) EXPECT_LE(b, 10u);
  EXPECT_EQ(sink.stats().written, 25u);
  EXPECT_EQ(metric(reg, "dive_v3_audit_events_written_total{type=\"t.e0\"}"), 9);
  EXPECT_EQ(metric(reg, "dive_v3_audit_events_dropped_total{service=\"api\"}"), 0);
}

// The queue's slots are reused (the writer frees nothing the recorders allocated): an event recorded into a
// slot that held a longer one carries nothing of it over, and every field is the new event's.
TEST_F(AuditSinkTest, ReusedSlotsCarryNothingOver) {
  auto owned = make();
  AuditSink& sink = *owned;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 12; ++i) {
      Event e =
          ev("t.r" + std::to_string(round), round == 0 ? std::string(300, 'x') + std::to_string(i) : "");
      e.actor = round == 1 ? "" : "actor-of-round-" + std::to_string(round) + "-with-a-heap-sized-name";
      e.details = round == 2 ? R"({"i":)" + std::to_string(i) + "}" : "{}";
      sink.record(std::move(e));
    }
    ASSERT_TRUE(sink.flush(5s));
  }
  std::lock_guard lock(fake->mu);
  ASSERT_EQ(fake->written.size(), 36u);
  for (size_t k = 0; k < 36; ++k) {
    const auto& w = fake->written[k];
    const auto round = k / 12, i = k % 12;
    EXPECT_EQ(w.type, "t.r" + std::to_string(round));
    EXPECT_EQ(w.reason, round == 0 ? std::string(300, 'x') + std::to_string(i) : "") << k;
    EXPECT_EQ(w.actor,
              round == 1 ? "" : "actor-of-round-" + std::to_string(round) + "-with-a-heap-sized-name")
        << k;
    EXPECT_EQ(w.details, round == 2 ? R"({"i":)" + std::to_string(i) + "}" : "{}") << k;
  }
}

TEST_F(AuditSinkTest, ABacklogIsWrittenInLargerBatches) {
  fake->set_down(true);
  SinkOptions o = options(1000, 10);
  o.max_batch = 100;
  auto owned = make(o);
  AuditSink& sink = *owned;
  for (int i = 0; i < 250; ++i) sink.record(ev("e"));
  ASSERT_TRUE(dive::testing::wait_until([&] { return sink.stats().write_errors >= 1; }, 5s));
  fake->set_down(false);
  ASSERT_TRUE(sink.flush(5s));
  std::lock_guard lock(fake->mu);
  ASSERT_FALSE(fake->batches.empty());
  EXPECT_EQ(fake->batches.front(), 100u) << "caught up 100 at a time, not 10";
  for (size_t b : fake->batches) EXPECT_LE(b, 100u);
}

TEST_F(AuditSinkTest, AnEventsOwnTimeIsKept) {
  auto owned = make();
  AuditSink& sink = *owned;
  Event e = ev("t.x");
  e.at_ms = 1234;
  e.service = "cli";
  sink.record(e);
  ASSERT_TRUE(sink.flush(5s));
  std::lock_guard lock(fake->mu);
  EXPECT_EQ(fake->written.at(0).at_ms, 1234);
  EXPECT_EQ(fake->written.at(0).service, "cli");
}

TEST_F(AuditSinkTest, AFullQueueDropsCountsAndNeverBlocks) {
  fake->set_block(true);  // the writer hangs on its first batch
  auto owned = make(options(20, 5));
  AuditSink& sink = *owned;
  sink.record(ev("first"));
  ASSERT_TRUE(dive::testing::wait_until(
      [&] {
        std::lock_guard lock(fake->mu);
        return fake->calls >= 1;
      },
      5s))
      << "taken by the writer";
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) sink.record(ev("more"));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s) << "record() never waits for the writer";
  EXPECT_EQ(sink.stats().queued, 20u) << "the capacity counts the event being written";
  EXPECT_EQ(sink.stats().dropped, 31u);
  EXPECT_EQ(metric(reg, "dive_v3_audit_events_dropped_total{service=\"api\"}"), 31);
  fake->set_block(false);
  ASSERT_TRUE(sink.flush(5s));
  EXPECT_EQ(fake->count(), 20u) << "everything that was admitted is written";
}

TEST_F(AuditSinkTest, AnOutageKeepsEventsQueuedAndRetriesInOrder) {
  fake->set_down(true);
  auto owned = make(options(1000, 10));
  AuditSink& sink = *owned;
  for (int i = 0; i < 35; ++i) sink.record(ev("e" + std::to_string(i)));
  ASSERT_TRUE(dive::testing::wait_until([&] { return sink.stats().write_errors >= 3; }, 5s));
  EXPECT_EQ(fake->count(), 0u);
  EXPECT_EQ(sink.stats().queued, 35u) << "nothing lost while the database is away";
  EXPECT_EQ(sink.stats().dropped, 0u);
  EXPECT_GE(metric(reg, "dive_v3_audit_write_errors_total"), 3);
  fake->set_down(false);
  ASSERT_TRUE(sink.flush(5s));
  auto types = fake->types();
  ASSERT_EQ(types.size(), 35u);
  for (int i = 0; i < 35; ++i) EXPECT_EQ(types[i], "e" + std::to_string(i)) << "order kept across retries";
}

TEST_F(AuditSinkTest, MemoryStaysBoundedDuringAnOutage) {
  writer.set_down(true);
  auto owned = make(options(50, 10));
  AuditSink& sink = *owned;
  for (int i = 0; i < 500; ++i) sink.record(ev("e"));
  EXPECT_LE(sink.stats().queued, 50u) << "the capacity, the batch being retried included";
  EXPECT_GE(sink.stats().dropped, 450u);
}

TEST_F(AuditSinkTest, AnEventTheDatabaseRefusesIsIsolatedAndCounted) {
  auto owned = make(options(100, 10));
  AuditSink& sink = *owned;
  for (int i = 0; i < 10; ++i) sink.record(ev("e" + std::to_string(i), i == 4 ? "poison" : ""));
  ASSERT_TRUE(sink.flush(5s));
  auto types = fake->types();
  EXPECT_EQ(types.size(), 9u);
  EXPECT_EQ(std::count(types.begin(), types.end(), "e4"), 0);
  EXPECT_EQ(sink.stats().dropped, 1u);
  EXPECT_EQ(metric(reg, "dive_v3_audit_events_dropped_total{service=\"api\"}"), 1);
}

TEST_F(AuditSinkTest, EventsAreSanitizedBeforeTheyAreWritten) {
  auto owned = make();
  AuditSink& sink = *owned;
  Event e = ev("t.x", "token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
  sink.record(e);
  ASSERT_TRUE(sink.flush(5s));
  std::lock_guard lock(fake->mu);
  EXPECT_EQ(fake->written.at(0).reason, "token [redacted]");
}

TEST_F(AuditSinkTest, ShutdownWritesWhatIsQueued) {
  {
    SinkOptions o = options(1000, 100);
    o.flush_every = 10s;  // nothing would be written before shutdown otherwise
    auto owned = make(o);
    AuditSink& sink = *owned;
    for (int i = 0; i < 7; ++i) sink.record(ev("e"));
  }
  EXPECT_EQ(fake->count(), 7u);
}

TEST_F(AuditSinkTest, ShutdownDuringAnOutageEndsAndCountsTheLoss) {
  writer.set_down(true);
  const auto t0 = std::chrono::steady_clock::now();
  {
    auto owned = make();
    AuditSink& sink = *owned;
    for (int i = 0; i < 5; ++i) sink.record(ev("e"));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  EXPECT_EQ(metric(reg, "dive_v3_audit_events_dropped_total{service=\"api\"}"), 5);
}

TEST_F(AuditSinkTest, FlushWaitsOnlyAsLongAsAsked) {
  writer.set_down(true);
  auto owned = make();
  AuditSink& sink = *owned;
  sink.record(ev("e"));
  EXPECT_FALSE(sink.flush(100ms));
}
