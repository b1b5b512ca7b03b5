#pragma once
// The pdp's decision log, written off the request path: record() only appends to a bounded queue (it
// never blocks a decision; when the queue is full the record is dropped and counted), a background
// thread hands batches to a sink (JSON lines, or the instance database in the service).
#include <atomic>
#include <cstdint>
#include <deque>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/mutex.hpp"

namespace dive::policy {

struct DecisionRecord {
  int64_t decided_at_ms = 0;  // Unix time
  std::string request_id;
  std::string query;       // decision | allow | reason | batch
  std::string input_hash;  // SHA-256 hex of the input as received
  bool allow = false;
  std::string reason;
  int64_t latency_us = 0;
  std::string bundle_revision;
};

class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  // Writes a batch; throws on failure (the batch is kept and retried, within the queue's bound).
  virtual void write(const std::vector<DecisionRecord>& batch) = 0;
};

// One JSON object per line, to a file (appended) or to stdout ("-").
class JsonLinesSink final : public DecisionSink {
 public:
  explicit JsonLinesSink(const std::string& path);
  void write(const std::vector<DecisionRecord>& batch) override;
  static std::string to_json_line(const DecisionRecord& r);

 private:
  std::ofstream file_;
  bool stdout_ = false;
};

// The decision log's queue and its writer thread. Thread-safe: record(), stats() and flush() may be called
// from any thread (mu_ guards the queue and the counts flush() waits on); only the writer thread calls the
// sink.
class DecisionLog {
 public:
  struct Options {
    size_t capacity = 100000;  // records waiting at most; beyond this new ones are dropped
    size_t batch = 1000;       // records per write
    Millis flush_every{200};   // a partial batch is written at least this often
    Millis retry_after{1000};  // after a failed write
  };
  DecisionLog(std::unique_ptr<DecisionSink> sink, Options opts);
  ~DecisionLog();  // writes what is queued (best effort, bounded by one retry), then stops
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;

  void record(DecisionRecord r) noexcept;
  struct Stats {
    uint64_t written = 0, dropped = 0, write_errors = 0;
    size_t queued = 0;
  };
  Stats stats() const;
  void flush();  // blocks until what was queued before the call is written or a write failed

 private:
  void run();
  std::unique_ptr<DecisionSink> sink_;
  Options opts_;
  mutable Mutex mu_;
  CondVar cv_, flushed_cv_;
  std::deque<DecisionRecord> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  bool flush_requested_ GUARDED_BY(mu_) = false;
  uint64_t enqueued_ GUARDED_BY(mu_) = 0;
  uint64_t done_ GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> written_{0}, dropped_{0}, errors_{0};
  std::thread thread_;
};

}  // namespace dive::policy
