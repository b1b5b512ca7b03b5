#pragma once
// Child processes: spawn with redirected output and optional privilege drop, run-and-capture with a
// timeout, and identification of processes by pid plus start time (so a recycled pid is never mistaken
// for one of ours).
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace dive {

struct SpawnOptions {
  std::vector<std::string> argv;           // argv[0] is looked up in PATH when it has no '/'
  std::map<std::string, std::string> env;  // added to (or overriding) the inherited environment
  std::vector<std::string> env_unset;      // removed from the inherited environment
  std::string cwd;                         // empty: inherit
  std::string stdout_path;                 // empty: inherit; otherwise appended to
  std::string stderr_path;                 // empty: same as stdout_path (or inherit)
  bool stdin_null = true;
  bool new_session = false;       // setsid(): detach from the controlling terminal
  bool new_process_group = true;  // so that a timeout can kill the whole group
  std::optional<uid_t> uid;       // drop privileges (root only)
  std::optional<gid_t> gid;
  int parent_death_signal = 0;  // prctl(PR_SET_PDEATHSIG) after the privilege drop
  // Descriptors the new program inherits under the same numbers (a listening socket handed to a service);
  // every other descriptor above 2 is closed on exec.
  std::vector<int> keep_fds;
};

// Starts the child; throws std::runtime_error when fork or exec fails (exec errors are reported
// through a close-on-exec pipe, so the message names the real cause).
pid_t spawn(const SpawnOptions& opts);

struct RunResult {
  int exit_code = -1;  // exit status, or 128+signal when killed
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};
// Runs to completion (or until timeout, when the whole process group is killed) capturing output.
RunResult run_capture(const SpawnOptions& opts, std::chrono::milliseconds timeout);
inline RunResult run_capture(std::vector<std::string> argv, std::chrono::milliseconds timeout) {
  SpawnOptions o;
  o.argv = std::move(argv);
  return run_capture(o, timeout);
}

// Waits for a child of ours; nullopt on timeout. The int is the raw wait status.
std::optional<int> wait_child(pid_t pid, std::chrono::milliseconds timeout);
std::string describe_wait_status(int status);  // "exited with 1", "killed by SIGKILL"
int exit_code_of(int status);                  // exit status, or 128+signal

bool pid_alive(pid_t pid);                           // exists and is not a zombie
std::string proc_cmdline(pid_t pid);                 // argv joined by spaces, "" if gone
std::optional<uint64_t> proc_start_time(pid_t pid);  // clock ticks since boot (field 22 of /proc/pid/stat)
std::optional<uint64_t> proc_rss_bytes(pid_t pid);

// Limits of this process: RLIMIT_NOFILE (soft), and the memory it may use — its cgroup's memory.max (cgroup
// v2) when one is set, else the machine's MemTotal. nullopt when nothing can be read.
std::optional<uint64_t> open_files_limit();
// Raises RLIMIT_NOFILE's soft limit to its hard limit (capped at `cap`); returns the soft limit in force
// afterwards (nullopt when it cannot be read). A server calls it at start: the default soft limit (often
// 1024) would otherwise cap its connections far below what the machine allows.
std::optional<uint64_t> raise_open_files_limit(uint64_t cap = 1u << 20);
std::optional<uint64_t> memory_limit_bytes();
// The parsers behind memory_limit_bytes(), for tests: /proc/self/cgroup ("0::/path" -> "/path"), the text
// of memory.max ("max" -> nullopt), and /proc/meminfo's MemTotal.
std::optional<std::string> cgroup_v2_path(std::string_view proc_self_cgroup);
std::optional<uint64_t> parse_memory_max(std::string_view text);
std::optional<uint64_t> parse_meminfo_total(std::string_view meminfo);

// Sends `sig` (SIGTERM by default), waits up to `grace` for the process to go, then SIGKILL (to its whole
// process group when it leads one). Works for any pid (child or not): reaps it when it is our child. Returns
// true when the process is gone.
bool terminate_pid(pid_t pid, std::chrono::milliseconds grace, int sig = 15 /* SIGTERM */);

// Looks up an executable in PATH (or checks an absolute path). nullopt when not found.
std::optional<std::string> find_executable(const std::string& name);

}  // namespace dive
