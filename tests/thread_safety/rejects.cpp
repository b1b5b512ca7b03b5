// The thread-safety analysis must keep rejecting these mistakes (docs/ARCHITECTURE.md, "Threads and
// locking"). CTest compiles this file in the "tsa" build with the flags of every library (-fsyntax-only,
// nothing is linked): without DIVE_TSA_CASE it must compile clean, so the file and the flags are sound;
// with -DDIVE_TSA_CASE=<n> it must fail with the error tests/thread_safety/CMakeLists.txt names for case n.
#include "common/mutex.hpp"

#ifndef DIVE_TSA_CASE
#define DIVE_TSA_CASE 0
#endif

namespace dive {
namespace {

class Account {
 public:
  void deposit(int n) {
    MutexLock lock(mu_);
    add_locked(n);
    cv_.notify_all();
  }
  int wait_for_funds() {
    MutexLock lock(mu_);
    cv_.wait(mu_, [&]() REQUIRES(mu_) { return balance_ > 0; });
    return balance_;
  }
  int audited() const {
    ReaderLock lock(audit_mu_);
    return audited_;
  }
  void audit() {
    int seen;
    {
      MutexLock lock(mu_);
      seen = balance_;
    }
    WriterLock lock(audit_mu_);
    audited_ = seen;
  }

#if DIVE_TSA_CASE == 1  // a read without the lock
  int peek() const {
    return balance_;
  }
#elif DIVE_TSA_CASE == 2  // a write without the lock
  void reset() {
    balance_ = 0;
  }
#elif DIVE_TSA_CASE == 3  // a write under a shared (reader) lock
  void forge(int n) {
    ReaderLock lock(audit_mu_);
    audited_ = n;
  }
#elif DIVE_TSA_CASE == 4  // a REQUIRES helper called without the lock
  void sneak(int n) {
    add_locked(n);
  }
#elif DIVE_TSA_CASE == 5  // a write after the scope released the lock
  void late(int n) {
    MutexLock lock(mu_);
    lock.unlock();
    balance_ += n;
  }
#elif DIVE_TSA_CASE == 6  // a condition wait without the lock
  void nap() {
    cv_.wait(mu_);
  }
#elif DIVE_TSA_CASE == 7  // a wait predicate not declared REQUIRES: its read is unchecked otherwise
  void idle() {
    MutexLock lock(mu_);
    cv_.wait(mu_, [&] { return balance_ > 0; });
  }
#elif DIVE_TSA_CASE == 8  // a lock taken and never released
  void leak() {
    mu_.lock();
  }
#endif

 private:
  void add_locked(int n) REQUIRES(mu_) {
    balance_ += n;
  }

  mutable Mutex mu_;
  CondVar cv_;
  int balance_ GUARDED_BY(mu_) = 0;
  mutable SharedMutex audit_mu_;
  int audited_ GUARDED_BY(audit_mu_) = 0;
};

}  // namespace
}  // namespace dive

// Uses the class, so that nothing above is unused.
int dive_tsa_check() {
  dive::Account a;
  a.deposit(1);
  a.audit();
  return a.wait_for_funds() + a.audited();
}
