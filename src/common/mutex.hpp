#pragma once
// The locks of the project: std::mutex and std::shared_mutex wrapped so that clang's thread-safety
// analysis (common/thread_annotations.hpp) sees every acquire and release, as LevelDB's port::Mutex does.
// Use these, not the std types, for any mutex that guards data: a member guarded by `mu_` is declared
// `T member_ GUARDED_BY(mu_);`, a helper that expects the lock held is declared `REQUIRES(mu_)`, and the
// clang build of `./dive test` (preset "tsa") rejects an access without the lock. The std guards
// (std::lock_guard, std::unique_lock) are not annotated, so the analysis would not see them: lock with the
// guards below. Convention: docs/ARCHITECTURE.md, "Threads and locking".
//
//   Mutex mu_;
//   std::deque<Job> queue_ GUARDED_BY(mu_);
//   CondVar cv_;
//   ...
//   MutexLock lock(mu_);
//   cv_.wait(mu_, [&]() REQUIRES(mu_) { return !queue_.empty(); });
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>

#include "common/thread_annotations.hpp"

namespace dive {

class CondVar;

// An exclusive lock (std::mutex). Thread-safe, not recursive.
class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  // Tells the analysis that the caller holds this mutex where it cannot see it (no run-time check).
  void assert_held() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds a Mutex for its scope (std::unique_lock): unlock() and lock() release and re-take it inside the
// scope; the destructor releases it if held.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  // Takes over a lock the caller already holds, e.g. after `if (!mu.try_lock()) return;`.
  MutexLock(Mutex& mu, std::adopt_lock_t) REQUIRES(mu) : mu_(mu) {}
  ~MutexLock() RELEASE() {
    if (held_) mu_.unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void unlock() RELEASE() {
    mu_.unlock();
    held_ = false;
  }
  void lock() ACQUIRE() {
    mu_.lock();
    held_ = true;
  }

 private:
  Mutex& mu_;
  bool held_ = true;
};

// The reverse: releases a Mutex the caller holds for its scope and takes it again at the end, also when an
// exception leaves the scope (slow work, such as connecting, done outside the lock in a REQUIRES function).
class SCOPED_CAPABILITY MutexUnlock {
 public:
  explicit MutexUnlock(Mutex& mu) RELEASE(mu) : mu_(mu) { mu_.unlock(); }
  // Annotated RELEASE like every scoped guard's destructor: the analysis knows that ending this scope
  // takes the mutex again.
  ~MutexUnlock() RELEASE() { mu_.lock(); }
  MutexUnlock(const MutexUnlock&) = delete;
  MutexUnlock& operator=(const MutexUnlock&) = delete;

 private:
  Mutex& mu_;
};

// A condition variable for a Mutex (std::condition_variable underneath). Every wait requires the mutex,
// held by the caller's MutexLock; the wait releases it while blocked and holds it again on return. The
// waits without a predicate may wake spuriously. A predicate runs with the mutex held: declare the lambda
// `REQUIRES(mu_)` (the analysis then checks its body as holding the lock; without it, each guarded read in
// it is reported). The analysis cannot match the lambda's mutex with the one passed: pass the same.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void wait(Mutex& mu) REQUIRES(mu) {
    Adopted lock(mu);
    cv_.wait(lock.lock);
  }
  template <class Clock, class Duration>
  std::cv_status wait_until(Mutex& mu, const std::chrono::time_point<Clock, Duration>& deadline)
      REQUIRES(mu) {
    Adopted lock(mu);
    return cv_.wait_until(lock.lock, deadline);
  }
  template <class Rep, class Period>
  std::cv_status wait_for(Mutex& mu, const std::chrono::duration<Rep, Period>& timeout) REQUIRES(mu) {
    Adopted lock(mu);
    return cv_.wait_for(lock.lock, timeout);
  }
  // Until pred() holds (std::condition_variable::wait with a predicate).
  template <class Predicate>
  void wait(Mutex& mu, Predicate pred) REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {  // pred: see above
    while (!pred()) wait(mu);
  }
  // Until pred() holds or the deadline passes; pred() at the end (as std::condition_variable).
  template <class Clock, class Duration, class Predicate>
  bool wait_until(Mutex& mu, const std::chrono::time_point<Clock, Duration>& deadline, Predicate pred)
      REQUIRES(mu) NO_THREAD_SAFETY_ANALYSIS {  // pred: see above
    while (!pred()) {
      if (wait_until(mu, deadline) == std::cv_status::timeout) return pred();
    }
    return true;
  }
  template <class Rep, class Period, class Predicate>
  bool wait_for(Mutex& mu, const std::chrono::duration<Rep, Period>& timeout, Predicate pred) REQUIRES(mu) {
    return wait_until(mu, std::chrono::steady_clock::now() + timeout, std::move(pred));
  }

  void notify_one() noexcept { cv_.notify_one(); }
  void notify_all() noexcept { cv_.notify_all(); }

 private:
  // The caller's lock seen as a std::unique_lock for the wait, and left held (not unlocked) afterwards,
  // even if the wait throws: the caller's MutexLock owns it.
  struct Adopted {
    explicit Adopted(Mutex& mu) : lock(mu.mu_, std::adopt_lock) {}
    ~Adopted() { lock.release(); }
    std::unique_lock<std::mutex> lock;
  };
  std::condition_variable cv_;
};

// A reader-writer lock (std::shared_mutex). Thread-safe, not recursive. Members it guards are read under
// a ReaderLock or a WriterLock and written under a WriterLock only.
class CAPABILITY("shared mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void lock() ACQUIRE() { mu_.lock(); }
  void unlock() RELEASE() { mu_.unlock(); }
  bool try_lock() TRY_ACQUIRE(true) { return mu_.try_lock(); }
  void lock_shared() ACQUIRE_SHARED() { mu_.lock_shared(); }
  void unlock_shared() RELEASE_SHARED() { mu_.unlock_shared(); }
  bool try_lock_shared() TRY_ACQUIRE_SHARED(true) { return mu_.try_lock_shared(); }
  void assert_held() const ASSERT_CAPABILITY(this) {}
  void assert_reader_held() const ASSERT_SHARED_CAPABILITY(this) {}

 private:
  std::shared_mutex mu_;
};

// Holds a SharedMutex exclusively for its scope (std::unique_lock); unlock() releases it early.
class SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(SharedMutex& mu) ACQUIRE(mu) : mu_(mu) { mu_.lock(); }
  ~WriterLock() RELEASE() {
    if (held_) mu_.unlock();
  }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

  void unlock() RELEASE() {
    mu_.unlock();
    held_ = false;
  }

 private:
  SharedMutex& mu_;
  bool held_ = true;
};

// Holds a SharedMutex shared for its scope (std::shared_lock); unlock() releases it early.
class SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(SharedMutex& mu) ACQUIRE_SHARED(mu) : mu_(mu) { mu_.lock_shared(); }
  ~ReaderLock() RELEASE() {
    if (held_) mu_.unlock_shared();
  }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

  void unlock() RELEASE() {
    mu_.unlock_shared();
    held_ = false;
  }

 private:
  SharedMutex& mu_;
  bool held_ = true;
};

}  // namespace dive
