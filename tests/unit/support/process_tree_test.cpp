// freeze_tree / thaw_tree / FrozenTree on a forked child that forked a grandchild; a forked bystander
// (a sibling, outside the tree) must never be stopped.
#include "process_tree.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <stdexcept>

#include "common/process.hpp"
#include "servers.hpp"

namespace {

using namespace std::chrono_literals;
using dive::testing::freeze_tree;
using dive::testing::FrozenTree;
using dive::testing::process_state;
using dive::testing::process_tree;
using dive::testing::thaw_tree;
using dive::testing::wait_until;

// Only async-signal-safe calls after fork(): the test binary may have threads.
[[noreturn]] void sleep_forever(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
  if (::getppid() != parent) ::_exit(1);
  for (;;) ::pause();
}

bool sleeping(pid_t pid) {
  char s = process_state(pid);
  return s == 'S' || s == 'R';
}

// A child that forks a grandchild; both sleep. The child waits for the grandchild and exits 0 once it
// has reaped it, so killing the grandchild by pid ends both, and the test reaps the child.
class Family {
 public:
  Family() {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    const pid_t me = ::getpid();
    child_ = ::fork();
    if (child_ < 0) throw std::runtime_error("fork");
    if (child_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != me) ::_exit(1);
      ::close(p[0]);
      const pid_t self = ::getpid();
      pid_t g = ::fork();
      if (g == 0) sleep_forever(self);
      if (g < 0 || ::write(p[1], &g, sizeof g) != static_cast<ssize_t>(sizeof g)) ::_exit(2);
      ::close(p[1]);
      int st = 0;
      while (::waitpid(g, &st, 0) < 0)
        if (errno != EINTR) ::_exit(3);
      ::_exit(0);
    }
    ::close(p[1]);
    ssize_t r;
    do {
      r = ::read(p[0], &grandchild_, sizeof grandchild_);
    } while (r < 0 && errno == EINTR);
    ::close(p[0]);
    if (r != static_cast<ssize_t>(sizeof grandchild_)) throw std::runtime_error("no grandchild pid");
  }

  ~Family() {
    if (!reaped_) ::kill(child_, SIGKILL);  // a failed test: the grandchild follows (PDEATHSIG)
    if (!reaped_) dive::wait_child(child_, 10s);
  }
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  pid_t child() const { return child_; }
  pid_t grandchild() const { return grandchild_; }

  // Kills the grandchild by pid; the child reaps it and exits 0; we reap the child.
  void end() {
    ASSERT_EQ(::kill(grandchild_, SIGKILL), 0);
    EXPECT_TRUE(wait_until([&] { return process_state(grandchild_) == '\0'; }, 10s, 5ms))
        << "state " << process_state(grandchild_);
    auto status = dive::wait_child(child_, 10s);
    if (!status) {
      ::kill(child_, SIGKILL);
      status = dive::wait_child(child_, 10s);
    }
    reaped_ = status.has_value();
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << dive::describe_wait_status(*status);
  }

 private:
  pid_t child_ = -1, grandchild_ = -1;
  bool reaped_ = false;
};

// A sibling of the family's child, outside its tree.
class Bystander {
 public:
  Bystander() {
    const pid_t me = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) sleep_forever(me);
  }
  ~Bystander() {
    ::kill(pid_, SIGKILL);
    dive::wait_child(pid_, 10s);
  }
  Bystander(const Bystander&) = delete;
  Bystander& operator=(const Bystander&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

TEST(ProcessTree, ListsRootThenDescendants) {
  Family f;
  auto tree = process_tree(f.child());
  ASSERT_EQ(tree.size(), 2u);
  EXPECT_EQ(tree[0], f.child());
  EXPECT_EQ(tree[1], f.grandchild());
  EXPECT_EQ(process_tree(f.grandchild()), std::vector<pid_t>{f.grandchild()});
  f.end();
  EXPECT_TRUE(process_tree(f.child()).empty());
}

TEST(ProcessTree, FreezeStopsTheTreeOnlyAndThawResumesIt) {
  Family f;
  Bystander other;
  ASSERT_TRUE(wait_until([&] { return sleeping(f.child()) && sleeping(f.grandchild()); }, 10s, 5ms));

  auto stopped = freeze_tree(f.child());
  std::sort(stopped.begin(), stopped.end());
  auto expected = std::vector<pid_t>{f.child(), f.grandchild()};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(stopped, expected);
  EXPECT_EQ(process_state(f.child()), 'T');
  EXPECT_EQ(process_state(f.grandchild()), 'T');
  EXPECT_NE(process_state(other.pid()), 'T') << "outside the tree";
  EXPECT_NE(process_state(::getpid()), 'T');

  thaw_tree(f.child());
  EXPECT_TRUE(wait_until([&] { return sleeping(f.child()) && sleeping(f.grandchild()); }, 10s, 5ms))
      << process_state(f.child()) << process_state(f.grandchild());
  f.end();
}

TEST(ProcessTree, FreezingASubtreeLeavesItsParentRunning) {
  Family f;
  ASSERT_TRUE(wait_until([&] { return sleeping(f.child()) && sleeping(f.grandchild()); }, 10s, 5ms));
  EXPECT_EQ(freeze_tree(f.grandchild()), std::vector<pid_t>{f.grandchild()});
  EXPECT_EQ(process_state(f.grandchild()), 'T');
  EXPECT_NE(process_state(f.child()), 'T');
  thaw_tree(f.grandchild());
  EXPECT_NE(process_state(f.grandchild()), 'T');
  f.end();
}

TEST(ProcessTree, FrozenTreeThawsWhenItGoesAway) {
  Family f;
  ASSERT_TRUE(wait_until([&] { return sleeping(f.child()) && sleeping(f.grandchild()); }, 10s, 5ms));
  {
    FrozenTree frozen(f.child());
    EXPECT_EQ(frozen.pids().size(), 2u);
    EXPECT_EQ(process_state(f.child()), 'T');
    EXPECT_EQ(process_state(f.grandchild()), 'T');
  }
  EXPECT_TRUE(wait_until([&] { return sleeping(f.child()) && sleeping(f.grandchild()); }, 10s, 5ms));

  FrozenTree again(f.child());
  again.thaw();
  again.thaw();  // idempotent
  EXPECT_NE(process_state(f.child()), 'T');
  f.end();
}

TEST(ProcessTree, RefusesInitThisProcessAndMissingRoots) {
  EXPECT_THROW(freeze_tree(0), std::invalid_argument);
  EXPECT_THROW(freeze_tree(1), std::invalid_argument);
  EXPECT_THROW(freeze_tree(::getpid()), std::invalid_argument);
  EXPECT_THROW(thaw_tree(1), std::invalid_argument);

  pid_t gone = ::fork();  // a pid that just ended
  if (gone == 0) ::_exit(0);
  ASSERT_GT(gone, 0);
  ASSERT_TRUE(dive::wait_child(gone, 10s).has_value());
  EXPECT_EQ(process_state(gone), '\0');
  EXPECT_THROW(freeze_tree(gone), std::runtime_error);
  EXPECT_NO_THROW(thaw_tree(gone));
}

}  // namespace
