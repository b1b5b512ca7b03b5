// The supervisor with real child processes (small shell programs) and a fake readiness prober.
#include "orchestrator/supervisor.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <thread>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "orchestrator/control_socket.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::orch;
using namespace std::chrono_literals;
using dive::testing::holds_for;
using dive::testing::wait_until;

namespace {

class FakeProber final : public Prober {
 public:
  bool ready(const ChildSpec& c) override {
    std::lock_guard lock(mu_);
    return !not_ready_.count(c.name);
  }
  void set_ready(const std::string& name, bool ready) {
    std::lock_guard lock(mu_);
    if (ready)
      not_ready_.erase(name);
    else
      not_ready_.insert(name);
  }

 private:
  std::mutex mu_;
  std::set<std::string> not_ready_;
};

ChildSpec child(const std::string& name, const std::string& script, const fs::path& dir) {
  ChildSpec c;
  c.name = name;
  c.argv = {"sh", "-c", script};
  c.env["NAME"] = name;
  c.probe = ProbeKind::Redis;  // not a service: no liveness killing in these tests
  c.log_path = (dir / (name + ".log")).string();
  return c;
}

// Runs a supervisor on its own thread for the duration of a test.
class Harness {
 public:
  Harness(std::vector<ChildSpec> children, FakeProber& prober, const fs::path& dir,
          Clock& clock = Clock::system()) {
    SupervisorOptions o;
    o.code = "TST";
    o.socket = dir / "sup.sock";
    o.run_dir = dir / "run";
    o.health_interval = 50ms;
    o.ready_timeout = 5s;
    o.stable_after = 10s;
    o.stop_grace = 2s;
    o.restart = {50ms, 2.0, 1000ms, 0ms};
    socket_ = o.socket;
    sup_ = std::make_unique<Supervisor>(o, std::move(children), prober, clock);
    thread_ = std::thread([this] { rc_ = sup_->run(); });
    wait_until([&] { return supervisor_request(socket_, Json{{"cmd", "status"}}, 200ms).has_value(); }, 5s);
  }
  ~Harness() {
    sup_->request_shutdown();
    thread_.join();
  }
  Json status() {
    auto r = supervisor_request(socket_, Json{{"cmd", "status"}});
    return r ? (*r)["status"] : Json();
  }
  Json service(const std::string& name) {
    Json st = status();  // named: a range-for over a temporary's member would dangle
    for (const auto& s : st["services"])
      if (s["name"] == name) return s;
    return Json();
  }
  Json send(const Json& req) { return supervisor_request(socket_, req).value_or(Json()); }
  void shutdown_and_join() {
    send(Json{{"cmd", "shutdown"}});
    thread_.join();
    thread_ = std::thread([] {});
  }
  int rc() const { return rc_; }

 private:
  fs::path socket_;
  std::unique_ptr<Supervisor> sup_;
  std::thread thread_;
  int rc_ = -1;
};

const char* kForever = "while true; do sleep 0.05; done";

// The test process spawned it (a stand-in for a previous supervisor): reap it once it exits.
void waitpid_quiet(pid_t pid) {
  int st = 0;
  ::waitpid(pid, &st, WNOHANG);
}
}  // namespace

TEST(Supervisor, StartsInDependencyOrderGatedOnReadiness) {
  TempDir d;
  FakeProber prober;
  prober.set_ready("db", false);
  Harness h({child("db", kForever, d.path()), child("svc", kForever, d.path())}, prober, d.path());
  ASSERT_TRUE(wait_until([&] { return h.service("db")["state"] == "starting"; }, 3s));
  // A deliberate observation window, not a wait: svc must not start while db is not ready (six health
  // intervals of the supervisor).
  Json svc;
  EXPECT_TRUE(holds_for(
      [&] {
        svc = h.service("svc");
        return svc["state"] == "stopped";
      },
      300ms))
      << "must wait for db to be ready: " << svc.dump();
  prober.set_ready("db", true);
  EXPECT_TRUE(wait_until(
      [&] { return h.service("svc")["state"] == "running" && h.service("svc")["healthy"] == true; }, 3s));
  EXPECT_TRUE(h.service("db")["pid"].is_number());
  EXPECT_TRUE(fs::exists(d.path() / "run" / "db.pid"));
}

TEST(Supervisor, RestartsAKilledChild) {
  TempDir d;
  FakeProber prober;
  Harness h({child("a", kForever, d.path())}, prober, d.path());
  ASSERT_TRUE(wait_until([&] { return h.service("a")["state"] == "running"; }, 3s)) << h.status().dump();
  pid_t first = h.service("a")["pid"];
  ::kill(first, SIGKILL);
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = h.service("a");
        return s["state"] == "running" && s["pid"].is_number() && s["pid"] != first;
      },
      5s));
  EXPECT_EQ(h.service("a")["restarts"], 1);
  EXPECT_NE(h.service("a")["lastExit"].get<std::string>().find("SIGKILL"), std::string::npos);
}

// The backoff runs on the supervisor's clock: a fake one here, moved by the test, so that each restart
// comes exactly when its delay has passed on that clock, and no test time is spent waiting it out.
TEST(Supervisor, ACrashLoopBacksOffExponentiallyOnItsClock) {
  TempDir d;
  FakeProber prober;
  FakeClock clock;
  Harness h({child("bad", "exit 3", d.path())}, prober, d.path(), clock);
  std::vector<int64_t> delays;
  for (int i = 1; i <= 6; ++i) {
    Json s;
    ASSERT_TRUE(wait_until(
        [&] {
          s = h.service("bad");
          return s["state"] == "crashed" && s["restarts"] == i;
        },
        5s))
        << s.dump();
    delays.push_back(s["backoffMs"].get<int64_t>());
    EXPECT_EQ(s["nextRestartInMs"], delays.back()) << "the clock stood still: the whole delay is ahead";
    EXPECT_NE(s["lastExit"].get<std::string>().find("exited with 3"), std::string::npos);
    clock.advance(Millis(delays.back() - 1));
    s = h.service("bad");
    EXPECT_EQ(s["state"], "crashed") << "one millisecond early: " << s.dump();
    EXPECT_EQ(s["nextRestartInMs"], 1);
    clock.advance(1ms);  // due: the next tick starts it (and it crashes again)
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{50, 100, 200, 400, 800, 1000}));
}

TEST(Supervisor, AStoppedChildStaysStoppedUntilStarted) {
  TempDir d;
  FakeProber prober;
  Harness h({child("a", kForever, d.path()), child("b", kForever, d.path())}, prober, d.path());
  ASSERT_TRUE(wait_until([&] { return h.service("b")["state"] == "running"; }, 3s));
  EXPECT_EQ(h.send(Json{{"cmd", "stop"}, {"service", "a"}})["ok"], true);
  ASSERT_TRUE(wait_until([&] { return h.service("a")["state"] == "stopped"; }, 3s));
  // A deliberate observation window, not a wait: for ten health intervals a must neither restart nor count
  // its stop as a crash.
  Json a;
  EXPECT_TRUE(holds_for(
      [&] {
        a = h.service("a");
        return a["state"] == "stopped" && a["restarts"] == 0;
      },
      500ms))
      << "a deliberate stop is not a crash: " << a.dump();
  EXPECT_EQ(h.service("b")["state"], "running") << "dependents keep running";
  EXPECT_EQ(h.send(Json{{"cmd", "start"}, {"service", "a"}})["ok"], true);
  EXPECT_TRUE(wait_until([&] { return h.service("a")["state"] == "running"; }, 3s));
  EXPECT_EQ(h.send(Json{{"cmd", "stop"}, {"service", "nope"}})["ok"], false);
  EXPECT_EQ(h.send(Json{{"cmd", "dance"}})["ok"], false);
}

TEST(Supervisor, ShutdownStopsChildrenInReverseOrder) {
  TempDir d;
  FakeProber prober;
  auto log = d.path() / "order.log";
  // Each shell touches $NAME.trapped once its trap is installed.
  std::string script = "trap 'echo $NAME >> " + log.string() + "; exit 0' TERM; : > " + d.path().string() +
                       "/$NAME.trapped; " + kForever;
  std::vector<ChildSpec> cs{child("first", script, d.path()), child("second", script, d.path()),
                            child("third", script, d.path())};
  Harness h(std::move(cs), prober, d.path());
  ASSERT_TRUE(wait_until([&] { return h.service("third")["state"] == "running"; }, 5s));
  ASSERT_TRUE(wait_until(
      [&] {
        for (const char* n : {"first", "second", "third"})
          if (!fs::exists(d.path() / (std::string(n) + ".trapped"))) return false;
        return true;
      },
      5s))
      << "the shells never installed their traps";
  std::vector<pid_t> pids;
  Json st = h.status();
  for (const auto& s : st["services"]) pids.push_back(s["pid"]);
  h.shutdown_and_join();
  EXPECT_EQ(h.rc(), 0);
  EXPECT_EQ(read_file(log), "third\nsecond\nfirst\n");
  for (pid_t p : pids) EXPECT_FALSE(pid_alive(p));
  EXPECT_FALSE(fs::exists(d.path() / "sup.sock"));
}

TEST(Supervisor, AChildThatIgnoresSigtermIsKilledAfterTheGrace) {
  TempDir d;
  FakeProber prober;
  const auto trapped = d.path() / "stubborn.trapped";  // touched once the trap is installed
  Harness h({child("stubborn", "trap '' TERM; : > " + trapped.string() + "; " + kForever, d.path())}, prober,
            d.path());
  ASSERT_TRUE(wait_until([&] { return h.service("stubborn")["state"] == "running"; }, 3s));
  ASSERT_TRUE(wait_until([&] { return fs::exists(trapped); }, 5s)) << "the shell never installed its trap";
  pid_t pid = h.service("stubborn")["pid"];
  auto t0 = std::chrono::steady_clock::now();
  h.shutdown_and_join();
  EXPECT_FALSE(pid_alive(pid));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 6s);
}

namespace {
// A process left running by a supervisor that died, recorded as run/<name>.pid.
pid_t stale_child(const fs::path& dir, const std::string& name, std::vector<std::string> argv) {
  ensure_dir(dir / "run", 0700);
  SpawnOptions o;
  o.argv = std::move(argv);
  o.new_process_group = true;
  pid_t pid = spawn(o);
  Json rec = {{"pid", pid}, {"start_time", proc_start_time(pid).value()}, {"argv0", o.argv[0]}};
  write_file_atomic(dir / "run" / (name + ".pid"), rec.dump());
  return pid;
}
}  // namespace

TEST(Supervisor, AChildLeftRunningByADeadSupervisorIsTakenOverNotRestarted) {
  TempDir d;
  pid_t orphan = stale_child(d.path(), "a", {"sh", "-c", kForever});
  FakeProber prober;
  Harness h({child("a", kForever, d.path()), child("b", kForever, d.path())}, prober, d.path());
  ASSERT_TRUE(wait_until([&] { return h.service("b")["state"] == "running"; }, 5s)) << h.status().dump();
  Json a = h.service("a");
  EXPECT_EQ(a["pid"], orphan) << a.dump();
  EXPECT_EQ(a["state"], "running");
  EXPECT_EQ(a["adopted"], true);
  EXPECT_EQ(a["restarts"], 0);
  EXPECT_TRUE(pid_alive(orphan));
  // Its exit is noticed although it is not our child, and it is restarted like any crashed child.
  ::kill(-orphan, SIGKILL);
  waitpid_quiet(orphan);
  ASSERT_TRUE(wait_until(
      [&] {
        Json s = h.service("a");
        return s["state"] == "running" && s["pid"].is_number() && s["pid"] != orphan;
      },
      5s))
      << h.status().dump();
  EXPECT_EQ(h.service("a")["restarts"], 1);
  EXPECT_EQ(h.service("a")["adopted"], false);
  // A taken-over child is stopped at shutdown like the others.
  pid_t again = stale_child(d.path() / "second", "a", {"sh", "-c", kForever});
  {
    Harness h2({child("a", kForever, d.path() / "second")}, prober, d.path() / "second");
    ASSERT_TRUE(wait_until([&] { return h2.service("a")["pid"] == again; }, 5s)) << h2.status().dump();
    h2.shutdown_and_join();
  }
  EXPECT_TRUE(wait_until(
      [&] {
        waitpid_quiet(again);
        return !pid_alive(again);
      },
      5s));
}

TEST(Supervisor, AStaleChildWhoseProgramWasReplacedIsStoppedAndStartedAfresh) {
  TempDir d;
  const fs::path copy = d.path() / "sleep-copy";
  fs::copy_file("/bin/sleep", copy);
  ::chmod(copy.c_str(), 0755);
  pid_t orphan = stale_child(d.path(), "a", {copy.string(), "300"});
  fs::remove(copy);  // an upgrade replaced the binary: /proc/<pid>/exe now ends in " (deleted)"
  FakeProber prober;
  Harness h({child("a", kForever, d.path())}, prober, d.path());
  EXPECT_TRUE(wait_until(
      [&] {
        waitpid_quiet(orphan);
        return !pid_alive(orphan);
      },
      5s));
  ASSERT_TRUE(wait_until([&] { return h.service("a")["state"] == "running"; }, 5s));
  EXPECT_NE(h.service("a")["pid"], orphan);
  EXPECT_EQ(h.service("a")["adopted"], false);
}
