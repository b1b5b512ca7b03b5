#pragma once
// The audit sink of a service process (docs/AUDIT.md): record() only appends to a bounded queue and never
// blocks a request; a background thread writes batches through a BatchWriter (the instance database:
// PgBatchWriter). When the queue is full the event is dropped, counted in
// dive_v3_audit_events_dropped_total{service} and logged at error level (never silently; the log line is
// rate-limited, the counter is exact). While the database is unavailable the queued events stay queued and
// the write is retried with backoff; memory stays bounded by the capacity (which counts the events being
// written too). The writer takes the whole queue at once (a swap of reused slots), so a recorder never waits
// behind it and the writer frees nothing the recorders allocated. A
// batch the database refuses for its content (not an outage) is written one event at a time, so one bad event
// cannot hold up the rest; an event refused on its own is dropped and counted like an overflow.
//
// Metrics: dive_v3_audit_events_written_total{type}, dive_v3_audit_events_dropped_total{service},
// dive_v3_audit_queue_depth, dive_v3_audit_write_errors_total.
//
// Thread-safe: record(), flush() and stats() may be called from any thread (mu_ guards the queue and the
// counts flush() waits on); the writer thread is the only one calling the BatchWriter and the only one
// touching the retry state (failing_, backoff_) and the per-type counters.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "audit/chain.hpp"
#include "audit/event.hpp"
#include "common/clock.hpp"
#include "common/mutex.hpp"
#include "resilience/retry.hpp"

namespace dive::metrics {
class Counter;
class Gauge;
class Registry;
template <class M>
class Family;
}  // namespace dive::metrics
namespace dive::store {
class PgPool;
}

namespace dive::audit {

class BatchWriter {
 public:
  virtual ~BatchWriter() = default;
  // Appends the events to the chain, in order, all or nothing. Throws store::PgUnavailable when the
  // database cannot be reached (the batch is kept and retried), anything else when it refused the batch.
  virtual void write(std::span<const Event> batch) = 0;
};

// The instance database's audit trail through the service's pool (behind its breaker and deadlines): the
// records hashed here from the head this writer last saw (pg_store.hpp's append). Until `ready()` (the
// schema has the audit tables: a service waits for the supervisor's migrations) every write fails like an
// outage, so events recorded at start wait instead of being refused. Used by one thread (the sink's writer).
class PgBatchWriter final : public BatchWriter {
 public:
  explicit PgBatchWriter(store::PgPool& db, std::function<bool()> ready = {})
      : db_(db), ready_(std::move(ready)) {}
  void write(std::span<const Event> batch) override;

 private:
  store::PgPool& db_;
  std::function<bool()> ready_;
  ChainHead head_;  // after the last committed write (a stale one costs a second hashing, nothing else)
};

struct SinkOptions {
  std::string service;      // the service label of the dropped counter (and every event's service)
  size_t capacity = 20000;  // events waiting at most; beyond that new ones are dropped
  size_t batch = 1000;      // events per write
  size_t max_batch = 5000;  // per write while more than `batch` are waiting (catching up after a stall)
  Millis flush_every{200};  // a partial batch is written at least this often
  resilience::BackoffPolicy retry{Millis(200), 2.0, Millis(5000), Millis(100)};  // after a failed write
  Millis drop_log_every{10000};  // at most one error line per this interval while dropping
};

class AuditSink final : public Recorder {
 public:
  AuditSink(std::unique_ptr<BatchWriter> writer, SinkOptions opts, Clock& clock = Clock::system(),
            metrics::Registry* registry = nullptr);
  // Writes what is queued (bounded: one more attempt when the database is down), then stops.
  ~AuditSink() override;
  AuditSink(const AuditSink&) = delete;
  AuditSink& operator=(const AuditSink&) = delete;

  // Stamps at_ms (when 0) and service (when empty), then queues. Never blocks, never throws.
  void record(Event e) noexcept override;

  struct Stats {
    uint64_t written = 0, dropped = 0, write_errors = 0;
    size_t queued = 0;
  };
  Stats stats() const;
  // Blocks until what was queued before the call is written, or `timeout` passed. True when written.
  bool flush(Millis timeout);

 private:
  void run();
  // One attempt. False on an outage: then the first `done` events of `batch` were written (or dropped) and
  // the rest is the caller's to keep.
  bool write_batch(std::span<Event> batch, size_t& done);
  bool outage(size_t n, const char* what);  // counts and logs a failed attempt; false
  void finished(size_t n);                  // n events written or dropped: for flush() and the capacity
  void count_written(std::span<const Event> batch);
  void dropped(uint64_t n, const char* why) noexcept;

  std::unique_ptr<BatchWriter> writer_;
  SinkOptions opts_;
  Clock& clock_;
  resilience::Backoff backoff_;  // writer thread only
  mutable Mutex mu_;
  CondVar cv_, done_cv_;
  // Recorded, not yet taken by the writer: the first queued_ slots. A slot outlives its event: record()
  // moves the next one in (its strings trade buffers with the slot's, so the recording thread frees the
  // old ones), and the writer, which takes the slots with a swap and hands them back the same way, frees
  // nothing (but the slots beyond max_batch a burst left). Freeing on the writer what the request threads
  // allocated was ~40 % of its CPU (docs/PERFORMANCE.md "Audit trail", run 11).
  std::vector<Event> queue_ GUARDED_BY(mu_);
  size_t queued_ GUARDED_BY(mu_) = 0;
  // Taken by the writer and not finished (counted against the capacity).
  size_t inflight_ GUARDED_BY(mu_) = 0;
  bool stop_ GUARDED_BY(mu_) = false;
  bool flush_requested_ GUARDED_BY(mu_) = false;
  // Events handed to the writer and finished (written or dropped).
  uint64_t enqueued_ GUARDED_BY(mu_) = 0;
  uint64_t done_ GUARDED_BY(mu_) = 0;
  bool failing_ = false;  // writer thread only: the last write failed, wait for the backoff
  std::atomic<uint64_t> written_{0}, dropped_{0}, errors_{0};
  Mutex drop_log_mu_;
  SteadyTime last_drop_log_ GUARDED_BY(drop_log_mu_);
  uint64_t drops_unlogged_ GUARDED_BY(drop_log_mu_) = 0;
  metrics::Counter* m_dropped_ = nullptr;
  metrics::Counter* m_errors_ = nullptr;
  metrics::Gauge* m_depth_ = nullptr;
  metrics::Family<metrics::Counter>* m_written_ = nullptr;
  std::map<std::string, metrics::Counter*> written_by_type_;  // writer thread only
  std::thread thread_;                                        // last: started once everything above exists
};

}  // namespace dive::audit
