#pragma once
// Freezing a whole process tree with SIGSTOP / SIGCONT, for resilience tests: a frozen PostgreSQL (the
// postmaster and all its backends and workers) or Redis keeps its sockets open but answers nothing, like
// a machine that hangs.
//
// Scope: only `root` and its descendants are ever signalled. The tree is read from the ppid field of
// /proc/<pid>/stat, and just before each signal the process's parent and start time are read again, so a
// process that left the tree (re-parented) or a recycled pid is skipped.
//
// Order:
//  - freeze_tree stops the descendants deepest first and the root last (children before their parent),
//    then walks the tree again, stopping any process forked meanwhile, until a walk finds no process it
//    has not stopped; it returns once every one of them is in state 'T' (or has exited).
//  - thaw_tree continues the root first, then its descendants breadth-first (parents before children).
//  So the only mixed state ever seen, while freezing or thawing, is a running parent with stopped
//  children, never a running child whose parent is stopped.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <utility>
#include <vector>

namespace dive::testing {

// `root` first, then its descendants breadth-first. Empty when root does not exist.
std::vector<pid_t> process_tree(pid_t root);

// The state letter of /proc/<pid>/stat ('R', 'S', 'D', 'T', 'Z'...), or '\0' when there is no such process.
char process_state(pid_t pid);

// SIGSTOPs the tree (order above) and waits, up to `timeout`, until each process is stopped. Returns the
// pids it stopped. Throws std::invalid_argument for root <= 1 or this process, std::runtime_error when root
// does not exist or a process did not stop in time, std::system_error when a signal is refused.
std::vector<pid_t> freeze_tree(pid_t root, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// SIGCONTs the tree (order above) and waits, up to `timeout`, until none of them is stopped (throws
// std::runtime_error otherwise). A missing root is not an error (nothing to thaw).
void thaw_tree(pid_t root, std::chrono::milliseconds timeout = std::chrono::seconds(10));

// RAII: freezes in the constructor, thaws in thaw() or the destructor. Besides the tree as it is then, the
// thaw also continues every process it froze that has left the tree since (e.g. re-parented because
// its parent was killed while frozen), when its start time shows it is still the same process.
class FrozenTree {
 public:
  explicit FrozenTree(pid_t root, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~FrozenTree();
  FrozenTree(const FrozenTree&) = delete;
  FrozenTree& operator=(const FrozenTree&) = delete;
  void thaw();  // idempotent
  const std::vector<pid_t>& pids() const { return pids_; }

 private:
  pid_t root_;
  std::vector<pid_t> pids_;
  std::vector<std::pair<pid_t, uint64_t>> identities_;  // pid, start time
  bool frozen_ = false;
};

}  // namespace dive::testing
