#include "common/process.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>

#include "common/fs.hpp"
#include "common/ossl.hpp"
#include "common/periodic.hpp"
#include "servers.hpp"

using namespace dive;
using namespace std::chrono_literals;
using dive::testing::wait_until;

TEST(Process, RunCaptureCollectsOutputAndExitCode) {
  auto r = run_capture({"sh", "-c", "echo out; echo err >&2; exit 3"}, 5s);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.output.find("out"), std::string::npos);
  EXPECT_NE(r.output.find("err"), std::string::npos);
}

TEST(Process, RunCaptureKillsTheGroupOnTimeout) {
  auto start = std::chrono::steady_clock::now();
  auto r = run_capture({"sh", "-c", "sleep 30 & sleep 30"}, 300ms);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(Process, SpawnReportsAMissingExecutable) {
  SpawnOptions o;
  o.argv = {"/nonexistent/dive-no-such-binary"};
  EXPECT_THROW(spawn(o), std::runtime_error);
  o.argv = {"dive-no-such-binary-in-path"};
  EXPECT_THROW(spawn(o), std::runtime_error);
}

TEST(Process, SpawnRedirectsToFileAndPassesEnv) {
  TempDir d;
  SpawnOptions o;
  o.argv = {"sh", "-c", "echo \"value=$DIVE_TEST_VAR\""};
  o.env["DIVE_TEST_VAR"] = "42";
  o.stdout_path = (d.path() / "out.log").string();
  pid_t pid = spawn(o);
  auto st = wait_child(pid, 5s);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(exit_code_of(*st), 0);
  EXPECT_EQ(read_file(d.path() / "out.log"), "value=42\n");
}

TEST(Process, TerminateStopsAProcessAndIdentityHelpersWork) {
  SpawnOptions o;
  o.argv = {"sleep", "30"};
  pid_t pid = spawn(o);
  EXPECT_TRUE(pid_alive(pid));
  EXPECT_NE(proc_cmdline(pid).find("sleep 30"), std::string::npos);
  EXPECT_TRUE(proc_start_time(pid).has_value());
  EXPECT_TRUE(proc_rss_bytes(pid).has_value());
  EXPECT_TRUE(terminate_pid(pid, 2s));
  EXPECT_FALSE(pid_alive(pid));
  EXPECT_EQ(proc_cmdline(pid), "");
}

TEST(Process, TerminateEscalatesToKill) {
  TempDir d;
  const auto ready = (d.path() / "ready").string();
  SpawnOptions o;
  // The shell ignores SIGTERM (and so does the sleep it starts), then says so: the readiness file, renamed
  // into place only after the trap is installed, holds the sleep's pid.
  o.argv = {"sh", "-c",
            "trap '' TERM; sleep 30 & echo $! > " + ready + ".tmp; mv " + ready + ".tmp " + ready + "; wait"};
  pid_t pid = spawn(o);
  ASSERT_TRUE(wait_until([&] { return fs::exists(ready); }, 5s)) << "the shell never installed its trap";
  const pid_t sleeper = std::stoi(read_file(ready));
  ASSERT_TRUE(pid_alive(sleeper));
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(terminate_pid(pid, 300ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_FALSE(pid_alive(pid));
  // The SIGTERM went to the shell alone: only the escalation's SIGKILL to the whole group ends the sleep.
  EXPECT_TRUE(wait_until([&] { return !pid_alive(sleeper); }, 5s)) << "the group was not killed";
}

TEST(Process, DescribeWaitStatus) {
  auto r = run_capture({"sh", "-c", "kill -9 $$"}, 5s);
  EXPECT_EQ(r.exit_code, 128 + 9);
  EXPECT_EQ(describe_wait_status(9), "killed by SIGKILL");
  EXPECT_EQ(describe_wait_status(1 << 8), "exited with 1");
}

TEST(Process, ChildrenInheritNoStrayDescriptors) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);  // deliberately without O_CLOEXEC
  ASSERT_EQ(::dup2(fds[0], 117), 117);
  auto r = run_capture({"sh", "-c", "ls /proc/self/fd"}, 5s);
  ::close(117);
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(r.output.find("117\n"), std::string::npos) << r.output;
}

TEST(Periodic, RunsUntilDestroyedSurvivesErrorsAndStopsPromptly) {
  std::atomic<int> runs{0};
  std::atomic<int> errors{0};
  auto t0 = std::chrono::steady_clock::now();
  {
    Periodic p(
        20ms,
        [&] {
          if (++runs == 2) throw std::runtime_error("one bad run");
        },
        [&](const std::string& e) {
          EXPECT_EQ(e, "one bad run");
          ++errors;
        },
        true);
    ASSERT_TRUE(wait_until([&] { return runs >= 4; }, 5s, 5ms)) << "only " << runs.load() << " runs";
    Periodic slow(1h, [] {});  // destroyed at once although its interval is an hour
  }
  EXPECT_GE(runs.load(), 4);
  EXPECT_EQ(errors.load(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(ProcessLimits, ParseTheCgroupAndMeminfoTexts) {
  EXPECT_EQ(cgroup_v2_path("0::/system.slice/dive.service\n"), "/system.slice/dive.service");
  EXPECT_EQ(cgroup_v2_path("12:memory:/x\n0::/\n"), "/");
  EXPECT_EQ(cgroup_v2_path("12:memory:/docker/abc\n"), std::nullopt);  // cgroup v1 only
  EXPECT_EQ(parse_memory_max("536870912\n"), 536870912u);
  EXPECT_EQ(parse_memory_max("max\n"), std::nullopt);
  EXPECT_EQ(parse_memory_max(""), std::nullopt);
  EXPECT_EQ(parse_meminfo_total("MemTotal:       24576000 kB\nMemFree: 1 kB\n"), 24576000ull * 1024);
  EXPECT_EQ(parse_meminfo_total("MemFree: 1 kB\n"), std::nullopt);
}

TEST(ProcessLimits, ThisProcessHasADescriptorAndAMemoryLimit) {
  auto fds = open_files_limit();
  ASSERT_TRUE(fds.has_value());
  EXPECT_GE(*fds, 3u);
  auto mem = memory_limit_bytes();
  ASSERT_TRUE(mem.has_value());
  EXPECT_GT(*mem, proc_rss_bytes(::getpid()).value_or(0));
}

TEST(CertificateNotAfter, ReadsTheExpiryOfAPemCertificate) {
  TempDir dir;
  const auto cert = (dir.path() / "cert.pem").string();
  auto r = run_capture(
      {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
       (dir.path() / "key.pem").string(), "-out", cert, "-days", "10", "-subj", "/CN=dive-test"},
      30s);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto not_after = ossl::certificate_not_after(cert);
  ASSERT_TRUE(not_after.has_value());
  const int64_t expected =
      std::chrono::duration_cast<std::chrono::seconds>(
          (std::chrono::system_clock::now() + std::chrono::hours(24 * 10)).time_since_epoch())
          .count();
  EXPECT_NEAR(static_cast<double>(*not_after), static_cast<double>(expected), 120.0);
  EXPECT_EQ(ossl::certificate_not_after((dir.path() / "missing.pem").string()), std::nullopt);
  write_file_atomic(dir.path() / "junk.pem", "not a certificate\n", 0600);
  EXPECT_EQ(ossl::certificate_not_after((dir.path() / "junk.pem").string()), std::nullopt);
}
