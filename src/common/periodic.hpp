#pragma once
// Runs a task every `interval` on its own thread until destroyed (prompt stop: the wait is interruptible).
// The task's exceptions are caught and passed to `on_error`, so one failure never ends the schedule.
// Thread-safe: wake() may be called from any thread; the task runs on the Periodic's own thread only.
#include <functional>
#include <string>
#include <thread>

#include "common/clock.hpp"
#include "common/mutex.hpp"

namespace dive {

class Periodic {
 public:
  Periodic(Millis interval, std::function<void()> task, std::function<void(const std::string&)> on_error = {},
           bool run_at_start = false)
      : interval_(interval), task_(std::move(task)), on_error_(std::move(on_error)) {
    thread_ = std::thread([this, run_at_start] {
      bool first = true;
      while (true) {
        if (!(first && run_at_start)) {
          MutexLock lock(mu_);
          cv_.wait_for(mu_, interval_, [&]() REQUIRES(mu_) { return stop_ || wake_; });
          if (stop_) return;
          wake_ = false;
        }
        first = false;
        try {
          task_();
        } catch (const std::exception& e) {
          if (on_error_) on_error_(e.what());
        }
      }
    });
  }
  ~Periodic() {
    {
      MutexLock lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;
  void wake() {
    {
      MutexLock lock(mu_);
      wake_ = true;
    }
    cv_.notify_all();
  }

 private:
  Millis interval_;
  std::function<void()> task_;
  std::function<void(const std::string&)> on_error_;
  Mutex mu_;
  CondVar cv_;
  bool stop_ GUARDED_BY(mu_) = false;
  bool wake_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace dive
