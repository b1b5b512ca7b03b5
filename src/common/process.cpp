#include "common/process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/strings.hpp"

extern char** environ;

namespace dive {

namespace {

std::vector<std::string> build_env(const SpawnOptions& o) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& k : o.env_unset) env.erase(k);
  for (const auto& [k, v] : o.env) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

[[noreturn]] void child_fail(int fd, const char* what) {
  int err = errno;
  char buf[256];
  int n = std::snprintf(buf, sizeof buf, "%s: %s", what, std::strerror(err));
  if (n > 0) (void)!::write(fd, buf, static_cast<size_t>(n));
  ::_exit(127);
}

// The path of `name`: as given when it holds a '/', else found in PATH.
std::string resolve_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  auto found = find_executable(name);
  if (!found) throw std::runtime_error("spawn: executable not found in PATH: " + name);
  return *found;
}

// In the child, after fork: stdin from /dev/null (SpawnOptions::stdin_null); stdout and stderr to
// `capture_fd` when >= 0, else appended to their log files (when named). Async-signal-safe: allocates
// nothing.
void child_redirect_stdio(const SpawnOptions& o, int capture_fd, const char* out_path, const char* err_path,
                          int err_fd) {
  if (o.stdin_null) {
    int fd = ::open("/dev/null", O_RDONLY);
    if (fd >= 0) {
      ::dup2(fd, 0);
      if (fd > 2) ::close(fd);
    }
  }
  if (capture_fd >= 0) {
    ::dup2(capture_fd, 1);
    ::dup2(capture_fd, 2);
    return;
  }
  if (*out_path) {
    int fd = ::open(out_path, O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (fd < 0) child_fail(err_fd, "open stdout log");
    ::dup2(fd, 1);
    if (fd > 2) ::close(fd);
  }
  if (*err_path) {
    int fd = ::open(err_path, O_WRONLY | O_CREAT | O_APPEND, 0640);
    if (fd < 0) child_fail(err_fd, "open stderr log");
    ::dup2(fd, 2);
    if (fd > 2) ::close(fd);
  }
}

// The child, after fork: sets up its process state and execs `exe`; a failure is written to `err_fd` (the
// close-on-exec error pipe) before exiting 127. Async-signal-safe: allocates nothing (everything it uses
// was prepared before fork).
[[noreturn]] void exec_child(const SpawnOptions& o, int capture_fd, int err_fd, const char* exe,
                             char* const* argv, char* const* envp, const char* out_path,
                             const char* err_path) {
  // Restore default signal dispositions and an empty mask for the new program.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int s : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) ::signal(s, SIG_DFL);
  if (o.new_session) {
    if (::setsid() < 0) child_fail(err_fd, "setsid");
  } else if (o.new_process_group) {
    ::setpgid(0, 0);
  }
  child_redirect_stdio(o, capture_fd, out_path, err_path, err_fd);
  // Nothing else we hold (sockets, pipes, database connections) leaks into the new program: a
  // leaked listening socket would keep a port busy in the name of an unrelated process.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = 3; fd < 4096; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  for (int fd : o.keep_fds)
    if (fd > 2 && fd != err_fd) ::fcntl(fd, F_SETFD, 0);
  if (o.gid && ::setgid(*o.gid) != 0) child_fail(err_fd, "setgid");
  if (o.uid && ::setgroups(0, nullptr) != 0) child_fail(err_fd, "setgroups");
  if (o.uid && ::setuid(*o.uid) != 0) child_fail(err_fd, "setuid");
  if (o.parent_death_signal != 0) ::prctl(PR_SET_PDEATHSIG, o.parent_death_signal);
  if (!o.cwd.empty() && ::chdir(o.cwd.c_str()) != 0) child_fail(err_fd, "chdir");
  ::execve(exe, argv, envp);
  child_fail(err_fd, "exec");
}

// Forks and execs; when out_fd >= 0 the child's stdout/stderr go to it (capture mode).
pid_t spawn_impl(const SpawnOptions& o, int capture_fd) {
  if (o.argv.empty()) throw std::invalid_argument("spawn: empty argv");
  const std::string exe = resolve_executable(o.argv[0]);
  // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
  std::vector<std::string> env_strings = build_env(o);
  std::vector<char*> argv, envp;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const std::string out_path = o.stdout_path;
  const std::string err_path = o.stderr_path.empty() ? o.stdout_path : o.stderr_path;

  int errpipe[2];
  if (::pipe2(errpipe, O_CLOEXEC) != 0) throw std::runtime_error("spawn: pipe failed");
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(errpipe[0]);
    ::close(errpipe[1]);
    throw std::runtime_error(std::string("spawn: fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(errpipe[0]);
    exec_child(o, capture_fd, errpipe[1], exe.c_str(), argv.data(), envp.data(), out_path.c_str(),
               err_path.c_str());
  }
  // The child's error pipe closes at exec: nothing read means it started; anything read is why it did not.
  ::close(errpipe[1]);
  char buf[256];
  ssize_t n;
  do {
    n = ::read(errpipe[0], buf, sizeof buf);
  } while (n < 0 && errno == EINTR);
  ::close(errpipe[0]);
  if (n > 0) {
    int status;
    ::waitpid(pid, &status, 0);
    throw std::runtime_error("cannot start " + o.argv[0] + ": " + std::string(buf, static_cast<size_t>(n)));
  }
  return pid;
}

}  // namespace

pid_t spawn(const SpawnOptions& opts) {
  return spawn_impl(opts, -1);
}

RunResult run_capture(const SpawnOptions& opts, std::chrono::milliseconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("run_capture: pipe failed");
  SpawnOptions o = opts;
  o.new_process_group = true;
  pid_t pid;
  try {
    pid = spawn_impl(o, fds[1]);
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[1]);
  RunResult res;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (true) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      res.timed_out = true;
      ::kill(-pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    res.output.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  res.exit_code = exit_code_of(status);
  return res;
}

std::optional<int> wait_child(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return std::string("killed by SIG") + (name ? name : std::to_string(WTERMSIG(status)).c_str());
  }
  return "status " + std::to_string(status);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

bool pid_alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string line;
  std::getline(stat, line);
  auto rp = line.rfind(')');
  if (rp == std::string::npos || rp + 2 >= line.size()) return false;
  char state = line[rp + 2];
  return state != 'Z' && state != 'X';
}

std::string proc_cmdline(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  if (!in) return "";
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  for (auto& c : raw)
    if (c == '\0') c = ' ';
  return raw;
}

std::optional<uint64_t> proc_start_time(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return std::nullopt;
  std::string line;
  std::getline(stat, line);
  auto rp = line.rfind(')');
  if (rp == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(rp + 2));
  std::string field;
  // Fields after the command name start at field 3 (state); starttime is field 22.
  for (int i = 3; i <= 22; ++i) {
    if (!(rest >> field)) return std::nullopt;
  }
  try {
    return std::stoull(field);
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<uint64_t> proc_rss_bytes(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return std::nullopt;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream ss(line.substr(6));
      uint64_t kb = 0;
      ss >> kb;
      return kb * 1024;
    }
  }
  return std::nullopt;
}

std::optional<uint64_t> open_files_limit() {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return std::nullopt;
  return static_cast<uint64_t>(rl.rlim_cur);
}

std::optional<uint64_t> raise_open_files_limit(uint64_t cap) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return std::nullopt;
  const rlim_t want = rl.rlim_max == RLIM_INFINITY ? static_cast<rlim_t>(cap)
                                                   : std::min<rlim_t>(rl.rlim_max, static_cast<rlim_t>(cap));
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    rlimit raised = rl;
    raised.rlim_cur = want;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  if (rl.rlim_cur == RLIM_INFINITY) return cap;
  return static_cast<uint64_t>(rl.rlim_cur);
}

std::optional<std::string> cgroup_v2_path(std::string_view text) {
  for (const auto& line : split(std::string(text), '\n'))
    if (line.rfind("0::", 0) == 0) return line.substr(3);
  return std::nullopt;
}

std::optional<uint64_t> parse_memory_max(std::string_view text) {
  auto v = parse_int(trim(std::string(text)));
  if (!v || *v <= 0) return std::nullopt;  // "max": no limit
  return static_cast<uint64_t>(*v);
}

std::optional<uint64_t> parse_meminfo_total(std::string_view meminfo) {
  for (const auto& line : split(std::string(meminfo), '\n')) {
    if (line.rfind("MemTotal:", 0) != 0) continue;
    std::istringstream ss(line.substr(9));
    uint64_t kb = 0;
    if (ss >> kb && kb > 0) return kb * 1024;
  }
  return std::nullopt;
}

std::optional<uint64_t> memory_limit_bytes() {
  auto slurp = [](const std::string& path) -> std::optional<std::string> {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  std::optional<uint64_t> machine;
  if (auto m = slurp("/proc/meminfo")) machine = parse_meminfo_total(*m);
  if (auto cg = slurp("/proc/self/cgroup")) {
    if (auto path = cgroup_v2_path(*cg)) {
      if (auto max = slurp("/sys/fs/cgroup" + *path + "/memory.max")) {
        if (auto limit = parse_memory_max(*max)) return machine ? std::min(*limit, *machine) : *limit;
      }
    }
  }
  return machine;
}

bool terminate_pid(pid_t pid, std::chrono::milliseconds grace, int sig) {
  if (pid <= 0) return true;
  auto reap = [pid] {
    int status;
    ::waitpid(pid, &status, WNOHANG);  // no-op when it is not our child
  };
  if (::kill(pid, sig) != 0 && errno == ESRCH) return true;
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (std::chrono::steady_clock::now() < deadline) {
    reap();
    if (!pid_alive(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  // Escalate. When the process leads its own group (we spawn children that way) the whole group goes,
  // so that no orphaned grandchild keeps ports or pipes open.
  if (::getpgid(pid) == pid)
    ::kill(-pid, SIGKILL);
  else
    ::kill(pid, SIGKILL);
  for (int i = 0; i < 200; ++i) {
    reap();
    if (!pid_alive(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return !pid_alive(pid);
}

std::optional<std::string> find_executable(const std::string& name) {
  auto executable = [](const std::string& p) { return ::access(p.c_str(), X_OK) == 0; };
  if (name.find('/') != std::string::npos)
    return executable(name) ? std::optional<std::string>(name) : std::nullopt;
  const char* path = std::getenv("PATH");
  std::string paths = path ? path : "/usr/local/bin:/usr/bin:/bin";
  for (const auto& dir : split(paths, ':')) {
    std::string cand = dir + "/" + name;
    if (executable(cand)) return cand;
  }
  return std::nullopt;
}

}  // namespace dive
