#include "audit/sink.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>
#include <utility>

#include <pqxx/pqxx>

#include "audit/pg_store.hpp"
#include "common/mutex.hpp"
#include "metrics/registry.hpp"
#include "store/pg_pool.hpp"

namespace dive::audit {

void PgBatchWriter::write(std::span<const Event> batch) {
  if (ready_ && !ready_()) throw store::PgUnavailable("the schema is not ready yet");
  db_.with([&](pqxx::connection& c) {
    pqxx::work tx(c);
    // The events waited in memory before this write anyway; waiting for the WAL flush as well would only
    // slow the one writer of the chain (a crash of PostgreSQL loses at most its last ~0.6 s of commits, whole
    // batches: the chain stays consistent). Uploads and everything else keep synchronous commits.
    tx.exec("SET LOCAL synchronous_commit = off");
    ChainHead head = head_;
    int64_t last = append(tx, batch, head);
    tx.commit();
    head_ = std::move(head);
    return last;
  });
}

AuditSink::AuditSink(std::unique_ptr<BatchWriter> writer, SinkOptions opts, Clock& clock,
                     metrics::Registry* registry)
    : writer_(std::move(writer)), opts_(std::move(opts)), clock_(clock), backoff_(opts_.retry) {
  if (opts_.batch == 0) opts_.batch = 1;
  opts_.max_batch = std::max(opts_.max_batch, opts_.batch);
  if (registry) {
    m_dropped_ = &registry
                      ->counter("dive_v3_audit_events_dropped_total",
                                "Audit events lost: the queue was full, or the database refused the event",
                                {"service"})
                      .labels({opts_.service});
    m_errors_ = &registry
                     ->counter("dive_v3_audit_write_errors_total",
                               "Failed writes of an audit batch (retried while the queue has room)")
                     .unlabelled();
    m_depth_ =
        &registry->gauge("dive_v3_audit_queue_depth", "Audit events waiting to be written").unlabelled();
    m_written_ = &registry->counter("dive_v3_audit_events_written_total",
                                    "Audit events appended to the chain, by type", {"type"});
  }
  thread_ = std::thread([this] { run(); });
  // Named for `top -H`, perf and bench/api/ab.sh, which count its CPU apart from the request threads'.
  pthread_setname_np(thread_.native_handle(), "audit-writer");
}

AuditSink::~AuditSink() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
  MutexLock lock(mu_);
  if (queued_ > 0) {
    spdlog::error("audit: {} event(s) not written at shutdown (the database did not answer)", queued_);
    if (m_dropped_) m_dropped_->inc(static_cast<double>(queued_));
  }
}

void AuditSink::record(Event e) noexcept {
  try {
    if (e.at_ms == 0) e.at_ms = clock_.unix_millis();
    if (e.service.empty()) e.service = opts_.service;
    bool wake;
    {
      MutexLock lock(mu_);
      if (queued_ + inflight_ >= opts_.capacity) {
        dropped(1, "the queue is full");
        return;
      }
      if (queued_ < queue_.size()) {
        queue_[queued_] = std::move(e);  // the slot's old buffers are freed on this thread (now or with `e`)
      } else {
        queue_.push_back(std::move(e));
      }
      ++queued_;
      ++enqueued_;
      wake = queued_ == opts_.batch;
    }
    if (wake) cv_.notify_one();
  } catch (...) {
    dropped(1, "out of memory");
  }
}

void AuditSink::dropped(uint64_t n, const char* why) noexcept {
  dropped_.fetch_add(n, std::memory_order_relaxed);
  if (m_dropped_) m_dropped_->inc(static_cast<double>(n));
  try {
    MutexLock lock(drop_log_mu_);
    drops_unlogged_ += n;
    auto now = clock_.now();
    if (last_drop_log_ != SteadyTime{} && now - last_drop_log_ < opts_.drop_log_every) return;
    spdlog::error("audit: {} event(s) of {} dropped ({}); dive_v3_audit_events_dropped_total counts them all",
                  drops_unlogged_, opts_.service, why);
    last_drop_log_ = now;
    drops_unlogged_ = 0;
  } catch (...) {
    // the counter above has it
  }
}

AuditSink::Stats AuditSink::stats() const {
  MutexLock lock(mu_);
  return Stats{written_.load(), dropped_.load(), errors_.load(), queued_ + inflight_};
}

bool AuditSink::flush(Millis timeout) {
  MutexLock lock(mu_);
  const uint64_t target = enqueued_;
  flush_requested_ = true;
  cv_.notify_one();
  return done_cv_.wait_for(mu_, timeout, [&]() REQUIRES(mu_) { return done_ >= target; });
}

void AuditSink::count_written(std::span<const Event> batch) {
  written_.fetch_add(batch.size(), std::memory_order_relaxed);
  if (!m_written_) return;
  for (const auto& e : batch) {
    auto& c = written_by_type_[e.type];
    if (!c) c = &m_written_->labels({e.type});
    c->inc();
  }
}

void AuditSink::finished(size_t n) {
  MutexLock lock(mu_);
  done_ += n;
  inflight_ -= std::min(inflight_, n);
  done_cv_.notify_all();
}

bool AuditSink::outage(size_t n, const char* what) {
  // Everything stays, in order, for the next attempt after the backoff.
  errors_.fetch_add(1, std::memory_order_relaxed);
  if (m_errors_) m_errors_->inc();
  if (!failing_) spdlog::warn("audit: writing {} event(s) failed, kept and retried: {}", n, what);
  failing_ = true;
  return false;
}

bool AuditSink::write_batch(std::span<Event> batch, size_t& done) {
  done = 0;
  for (auto& e : batch) sanitize(e);
  try {
    writer_->write(batch);
    count_written(batch);
    failing_ = false;
    backoff_.reset();
    finished(batch.size());
    done = batch.size();
    return true;
  } catch (const store::PgUnavailable& e) {
    return outage(batch.size(), e.what());
  } catch (const std::exception& e) {
    errors_.fetch_add(1, std::memory_order_relaxed);
    if (m_errors_) m_errors_->inc();
    spdlog::error("audit: a batch of {} event(s) was refused ({}); writing them one by one", batch.size(),
                  e.what());
  }
  // The database refused the batch itself: one at a time, so only what it refuses is lost.
  for (size_t i = 0; i < batch.size(); ++i) {
    const auto one = batch.subspan(i, 1);
    try {
      writer_->write(one);
      count_written(one);
    } catch (const store::PgUnavailable& e) {
      finished(i);
      done = i;
      return outage(batch.size() - i, e.what());
    } catch (const std::exception& ex) {
      spdlog::error("audit: event {} of {} refused by the database: {}", one.front().type,
                    one.front().service, ex.what());
      dropped(1, "refused by the database");
    }
  }
  finished(batch.size());
  done = batch.size();
  return true;
}

void AuditSink::run() {
  std::vector<Event> taken;  // the slots taken from queue_ (the first `n` of them hold events)
  while (true) {
    size_t n = 0;
    {
      MutexLock lock(mu_);
      if (failing_) {
        // After a failed write: wait out the backoff (shutdown cuts it short: one last attempt).
        cv_.wait_for(mu_, backoff_.next(), [&]() REQUIRES(mu_) { return stop_; });
      } else {
        cv_.wait_for(mu_, opts_.flush_every,
                     [&]() REQUIRES(mu_) { return stop_ || flush_requested_ || queued_ >= opts_.batch; });
      }
      flush_requested_ = false;
      if (m_depth_) m_depth_->set(static_cast<double>(queued_));
      if (queued_ == 0) {
        if (stop_) return;
        continue;
      }
      // Everything queued, in O(1): recorders never wait behind a batch being moved. They fill the slots
      // written last time.
      taken.swap(queue_);
      n = std::exchange(queued_, 0);
      inflight_ = n;
    }
    size_t pos = 0;
    while (pos < n) {
      // Behind (a slow moment of the database, a burst): larger batches, fewer round trips and commits.
      const size_t left = n - pos;
      const size_t size = std::min(left, left > opts_.batch ? opts_.max_batch : opts_.batch);
      size_t done = 0;
      const bool written = write_batch(std::span<Event>(taken).subspan(pos, size), done);
      pos += done;
      if (written) continue;
      // Not written: back in front of what was recorded meanwhile, in order (a rare path: it allocates).
      MutexLock lock(mu_);
      std::vector<Event> back;
      back.reserve((n - pos) + queued_);
      std::move(taken.begin() + static_cast<long>(pos), taken.begin() + static_cast<long>(n),
                std::back_inserter(back));
      std::move(queue_.begin(), queue_.begin() + static_cast<long>(queued_), std::back_inserter(back));
      queued_ = back.size();
      queue_.swap(back);
      inflight_ = 0;
      break;
    }
    // The slots a burst left beyond a large batch go (their buffers with them: the only frees here), so an
    // idle sink keeps at most two large batches' worth.
    if (taken.size() > opts_.max_batch) {
      taken.resize(opts_.max_batch);
      taken.shrink_to_fit();
    }
    MutexLock lock(mu_);
    if (stop_ && (failing_ || queued_ == 0)) return;  // shutting down: no more waiting on a dead database
  }
}

}  // namespace dive::audit
