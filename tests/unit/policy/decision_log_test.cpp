// The decision log: records leave the request path through a bounded queue; a failing sink loses nothing
// that fits the queue; a full queue drops (and counts) instead of blocking.
#include "policy/decision_log.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "common/fs.hpp"
#include "common/json.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::policy;
using namespace std::chrono_literals;
using dive::testing::wait_until;

namespace {
DecisionRecord rec(int i) {
  DecisionRecord r;
  r.decided_at_ms = 1700000000000 + i;
  r.request_id = "req-" + std::to_string(i);
  r.query = "decision";
  r.input_hash = std::string(64, 'a');
  r.allow = i % 2 == 0;
  r.reason = "reason \"" + std::to_string(i) + "\"\n";
  r.latency_us = i;
  r.bundle_revision = "rev";
  return r;
}

// A sink that can be told to fail or to block, and remembers what it got. A blocked write waits until
// release() (bounded, so that a broken test cannot hang: a write that gave up is counted).
class ScriptedSink final : public DecisionSink {
 public:
  std::atomic<bool> fail{false};
  std::mutex mu;
  std::vector<DecisionRecord> got;
  std::atomic<int> calls{0};
  std::atomic<int> gave_up{0};
  void block() {
    std::lock_guard lock(gate_mu_);
    blocked_ = true;
  }
  void release() {
    {
      std::lock_guard lock(gate_mu_);
      blocked_ = false;
    }
    gate_cv_.notify_all();
  }
  void write(const std::vector<DecisionRecord>& batch) override {
    ++calls;
    {
      std::unique_lock lock(gate_mu_);
      if (!gate_cv_.wait_for(lock, 10s, [&] { return !blocked_; })) ++gave_up;
    }
    if (fail) throw std::runtime_error("database down");
    std::lock_guard lock(mu);
    got.insert(got.end(), batch.begin(), batch.end());
  }
  size_t count() {
    std::lock_guard lock(mu);
    return got.size();
  }

 private:
  std::mutex gate_mu_;
  std::condition_variable gate_cv_;
  bool blocked_ = false;
};
}  // namespace

TEST(DecisionLog, JsonLinesAreParsableAndComplete) {
  TempDir d;
  auto file = (d.path() / "decisions.jsonl").string();
  {
    DecisionLog log(std::make_unique<JsonLinesSink>(file), DecisionLog::Options{});
    for (int i = 0; i < 10; ++i) log.record(rec(i));
    log.flush();
    EXPECT_EQ(log.stats().written, 10u);
  }
  auto lines = read_file(file);
  int n = 0;
  size_t start = 0;
  while (start < lines.size()) {
    auto end = lines.find('\n', start);
    Json j = Json::parse(lines.substr(start, end - start));
    EXPECT_EQ(j["request_id"], "req-" + std::to_string(n));
    EXPECT_EQ(j["reason"], "reason \"" + std::to_string(n) + "\"\n");
    EXPECT_EQ(j["allow"], n % 2 == 0);
    EXPECT_EQ(j["bundle_revision"], "rev");
    ++n;
    start = end + 1;
  }
  EXPECT_EQ(n, 10);
}

TEST(DecisionLog, WritesInBatchesOffTheCallersThread) {
  auto sink = std::make_unique<ScriptedSink>();
  auto* s = sink.get();
  DecisionLog::Options o;
  o.batch = 100;
  o.flush_every = 50ms;
  DecisionLog log(std::move(sink), o);
  s->block();  // the writer gets stuck in its first write: record() must still return at once
  log.record(rec(0));
  ASSERT_TRUE(wait_until([&] { return s->calls.load() == 1; }, 5s)) << "the writer never wrote";
  for (int i = 1; i < 1000; ++i) log.record(rec(i));
  // Had record() waited for the writer, the loop would have ended only when the sink gave up.
  EXPECT_EQ(s->gave_up.load(), 0) << "record() waited for the stuck writer";
  EXPECT_EQ(s->calls.load(), 1);
  s->release();
  log.flush();
  EXPECT_EQ(s->count(), 1000u);
  EXPECT_LE(s->calls.load(), 12) << "batched, not one write per record";
}

TEST(DecisionLog, AFailingSinkLosesNothingThatFitsTheQueue) {
  auto sink = std::make_unique<ScriptedSink>();
  auto* s = sink.get();
  DecisionLog::Options o;
  o.flush_every = 10ms;
  o.retry_after = 20ms;
  DecisionLog log(std::move(sink), o);
  s->fail = true;
  for (int i = 0; i < 50; ++i) log.record(rec(i));
  ASSERT_TRUE(wait_until([&] { return log.stats().write_errors > 0; }, 5s, 5ms))
      << "no write was attempted within 5 s";
  EXPECT_EQ(s->count(), 0u);
  s->fail = false;  // the database is back
  ASSERT_TRUE(wait_until([&] { return s->count() >= 50; }, 5s, 5ms))
      << "only " << s->count() << " of 50 records written within 5 s of the sink recovering";
  EXPECT_EQ(s->count(), 50u);
  EXPECT_EQ(s->got.front().request_id, "req-0") << "in order";
  EXPECT_EQ(log.stats().dropped, 0u);
}

TEST(DecisionLog, AFullQueueDropsAndCounts) {
  auto sink = std::make_unique<ScriptedSink>();
  auto* s = sink.get();
  s->block();
  DecisionLog::Options o;
  o.capacity = 100;
  o.batch = 10;
  DecisionLog log(std::move(sink), o);
  for (int i = 0; i < 500; ++i) log.record(rec(i));
  auto st = log.stats();
  EXPECT_GE(st.dropped, 390u);
  EXPECT_LE(st.queued, 100u);
  s->release();
}
