#include "policy/decision_log.hpp"

#include <cstdio>
#include <stdexcept>

#include "common/logging.hpp"
#include "common/mutex.hpp"

namespace dive::policy {

JsonLinesSink::JsonLinesSink(const std::string& path) : stdout_(path == "-") {
  if (!stdout_) {
    file_.open(path, std::ios::app);
    if (!file_) throw std::runtime_error("cannot open the decision log " + path);
  }
}

std::string JsonLinesSink::to_json_line(const DecisionRecord& r) {
  std::string s;
  s.reserve(256);
  s += "{\"decided_at_ms\":" + std::to_string(r.decided_at_ms);
  s += ",\"request_id\":\"" + json_escape(r.request_id);
  s += "\",\"query\":\"" + json_escape(r.query);
  s += "\",\"input_hash\":\"" + json_escape(r.input_hash);
  s += std::string("\",\"allow\":") + (r.allow ? "true" : "false");
  s += ",\"reason\":\"" + json_escape(r.reason);
  s += "\",\"latency_us\":" + std::to_string(r.latency_us);
  s += ",\"bundle_revision\":\"" + json_escape(r.bundle_revision) + "\"}\n";
  return s;
}

void JsonLinesSink::write(const std::vector<DecisionRecord>& batch) {
  std::string out;
  for (const auto& r : batch) out += to_json_line(r);
  if (stdout_) {
    if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size())
      throw std::runtime_error("stdout write failed");
    std::fflush(stdout);
  } else {
    file_ << out;
    file_.flush();
    if (!file_) throw std::runtime_error("decision log write failed");
  }
}

DecisionLog::DecisionLog(std::unique_ptr<DecisionSink> sink, Options opts)
    : sink_(std::move(sink)), opts_(opts) {
  thread_ = std::thread([this] { run(); });
}

DecisionLog::~DecisionLog() {
  {
    MutexLock lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void DecisionLog::record(DecisionRecord r) noexcept {
  try {
    bool full_batch;
    {
      MutexLock lock(mu_);
      if (queue_.size() >= opts_.capacity) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      queue_.push_back(std::move(r));
      ++enqueued_;
      full_batch = queue_.size() % opts_.batch == 0;
    }
    if (full_batch) cv_.notify_one();
  } catch (...) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
}

DecisionLog::Stats DecisionLog::stats() const {
  MutexLock lock(mu_);
  return Stats{written_.load(), dropped_.load(), errors_.load(), queue_.size()};
}

void DecisionLog::flush() {
  MutexLock lock(mu_);
  uint64_t target = enqueued_;
  flush_requested_ = true;
  cv_.notify_one();
  uint64_t errors_before = errors_.load();
  flushed_cv_.wait(
      mu_, [&]() REQUIRES(mu_) { return done_ >= target || errors_.load() != errors_before || stop_; });
}

void DecisionLog::run() {
  std::vector<DecisionRecord> batch;
  while (true) {
    {
      MutexLock lock(mu_);
      // Batches: wake for a full batch, a flush request or shutdown; otherwise write every flush_every.
      cv_.wait_for(mu_, opts_.flush_every,
                   [&]() REQUIRES(mu_) { return stop_ || flush_requested_ || queue_.size() >= opts_.batch; });
      flush_requested_ = false;
      if (queue_.empty()) {
        if (stop_) return;
        continue;
      }
      auto end = queue_.begin() + static_cast<long>(std::min(queue_.size(), opts_.batch));
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
      queue_.erase(queue_.begin(), end);
    }
    bool ok = true;
    try {
      sink_->write(batch);
    } catch (const std::exception&) {
      ok = false;
    }
    MutexLock lock(mu_);
    if (ok) {
      done_ += batch.size();
      written_.fetch_add(batch.size(), std::memory_order_relaxed);
      flushed_cv_.notify_all();
    } else {
      errors_.fetch_add(1, std::memory_order_relaxed);
      // Back in front, in order, for the next attempt (the queue may briefly exceed its bound).
      queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.end()));
      flushed_cv_.notify_all();
      if (stop_) return;  // shutting down with the sink failing: give up on the rest
      cv_.wait_for(mu_, opts_.retry_after, [&]() REQUIRES(mu_) { return stop_; });
    }
  }
}

}  // namespace dive::policy
