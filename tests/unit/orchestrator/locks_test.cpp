#include <gtest/gtest.h>
#include <unistd.h>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "orchestrator/file_lock.hpp"
#include "orchestrator/pidfile.hpp"

using namespace dive;
using namespace dive::orch;
using namespace std::chrono_literals;

TEST(FileLock, OneHolderAtATimeAcrossProcesses) {
  TempDir d;
  auto f = d.path() / "deploy.lock";
  auto held = FileLock::try_acquire(f);
  ASSERT_TRUE(held);
  // flock is per open file description: another process must be refused and told who holds it.
  auto r = run_capture({"sh", "-c", "flock -n " + f.string() + " true; echo rc=$?"}, 5s);
  EXPECT_NE(r.output.find("rc=1"), std::string::npos) << r.output;
  int holder = 0;
  EXPECT_FALSE(FileLock::try_acquire(f, &holder));
  EXPECT_EQ(holder, ::getpid());
  held.reset();
  EXPECT_TRUE(FileLock::try_acquire(f));
}

TEST(PidRecords, MatchOnlyTheSameProcess) {
  TempDir d;
  SpawnOptions o;
  o.argv = {"sleep", "30"};
  pid_t pid = spawn(o);
  write_pid_record(d.path() / "x.pid", pid);
  auto rec = read_pid_record(d.path() / "x.pid");
  ASSERT_TRUE(rec);
  EXPECT_TRUE(record_is_live(*rec));
  EXPECT_EQ(live_records(d.path()).size(), 1u);
  PidRecord forged = *rec;
  forged.start_time += 1;  // same pid, another process (a recycled pid)
  EXPECT_FALSE(record_is_live(forged));
  terminate_pid(pid, 2s);
  EXPECT_FALSE(record_is_live(*rec));
  EXPECT_TRUE(live_records(d.path()).empty());
  write_file_atomic(d.path() / "bad.pid", "garbage");
  EXPECT_FALSE(read_pid_record(d.path() / "bad.pid"));
}
