#include "process_tree.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>

#include "servers.hpp"

namespace dive::testing {

namespace {

struct PtStat {
  pid_t pid = 0;
  char state = '\0';
  pid_t ppid = 0;
  uint64_t start = 0;  // field 22, clock ticks since boot: tells a recycled pid apart
};

std::optional<PtStat> pt_read_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  // "pid (comm) state ppid ..." where comm may hold spaces and parentheses: parse after the last ')'.
  auto close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  PtStat s;
  s.pid = pid;
  std::string field;
  if (!(rest >> s.state >> s.ppid)) return std::nullopt;
  for (int i = 5; i < 22; ++i)  // fields 5..21
    if (!(rest >> field)) return std::nullopt;
  if (!(rest >> s.start)) return std::nullopt;
  return s;
}

// The tree under root as it is now: root first, then breadth-first.
std::vector<PtStat> pt_walk(pid_t root) {
  auto root_stat = pt_read_stat(root);
  if (!root_stat) return {};
  std::map<pid_t, std::vector<PtStat>> children;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name.empty() ||
          !std::all_of(name.begin(), name.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        continue;
      if (auto s = pt_read_stat(static_cast<pid_t>(std::stol(name)))) children[s->ppid].push_back(*s);
    }
    ::closedir(d);
  }
  std::vector<PtStat> out{*root_stat};
  for (size_t i = 0; i < out.size(); ++i) {
    auto it = children.find(out[i].pid);
    if (it == children.end()) continue;
    for (const auto& ch : it->second)
      if (ch.pid != root) out.push_back(ch);
  }
  return out;
}

// Signals `node` if it is still the process we saw: same start time, and (but for the root) same parent.
// False when it is gone or is no longer that process.
bool pt_signal_if_same(const PtStat& node, bool is_root, int sig) {
  auto now = pt_read_stat(node.pid);
  if (!now || now->start != node.start || (!is_root && now->ppid != node.ppid)) return false;
  if (::kill(node.pid, sig) == 0) return true;
  if (errno == ESRCH) return false;
  throw std::system_error(errno, std::generic_category(),
                          "kill(" + std::to_string(node.pid) + ", " + std::to_string(sig) + ")");
}

bool pt_gone_or(pid_t pid, bool want_stopped) {
  char st = process_state(pid);
  if (st == '\0' || st == 'Z' || st == 'X') return true;
  return want_stopped ? (st == 'T' || st == 't') : st != 'T';
}

// Waits until every pid is stopped (or running again); the first one that is not, or 0.
pid_t pt_wait_all(const std::vector<pid_t>& pids, bool want_stopped, std::chrono::milliseconds timeout) {
  pid_t laggard = 0;
  wait_until(
      [&] {
        for (pid_t p : pids)
          if (!pt_gone_or(p, want_stopped)) {
            laggard = p;
            return false;
          }
        laggard = 0;
        return true;
      },
      timeout, std::chrono::milliseconds(1));
  return laggard;
}

}  // namespace

std::vector<pid_t> process_tree(pid_t root) {
  std::vector<pid_t> out;
  for (const auto& s : pt_walk(root)) out.push_back(s.pid);
  return out;
}

char process_state(pid_t pid) {
  auto s = pt_read_stat(pid);
  return s ? s->state : '\0';
}

std::vector<pid_t> freeze_tree(pid_t root, std::chrono::milliseconds timeout) {
  if (root <= 1 || root == ::getpid())
    throw std::invalid_argument("freeze_tree: refusing to stop pid " + std::to_string(root));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<pid_t> stopped;
  std::set<pid_t> seen;
  const auto fail = [&](const std::string& what) {
    for (auto it = stopped.rbegin(); it != stopped.rend(); ++it) ::kill(*it, SIGCONT);  // root first
    throw std::runtime_error("freeze_tree(" + std::to_string(root) + "): " + what);
  };
  for (bool first = true;; first = false) {
    auto nodes = pt_walk(root);
    if (nodes.empty()) {
      if (first) throw std::runtime_error("freeze_tree: no process " + std::to_string(root));
      break;
    }
    bool stopped_new = false;
    for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {  // deepest first, the root last
      if (seen.count(it->pid) || it->pid == ::getpid()) continue;
      if (!pt_signal_if_same(*it, it->pid == root, SIGSTOP)) continue;
      seen.insert(it->pid);
      stopped.push_back(it->pid);
      stopped_new = true;
    }
    if (!stopped_new) break;  // a walk of a fully stopped tree: nothing can have forked since
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (pid_t p = pt_wait_all(stopped, true, std::max(left, std::chrono::milliseconds(0))))
      fail("pid " + std::to_string(p) + " did not stop (state " + std::string(1, process_state(p)) + ")");
  }
  return stopped;
}

void thaw_tree(pid_t root, std::chrono::milliseconds timeout) {
  if (root <= 1 || root == ::getpid())
    throw std::invalid_argument("thaw_tree: refusing to signal pid " + std::to_string(root));
  std::vector<pid_t> continued;
  for (const auto& node : pt_walk(root))  // the root first, then breadth-first: parents before children
    if (node.pid != ::getpid() && pt_signal_if_same(node, node.pid == root, SIGCONT))
      continued.push_back(node.pid);
  if (pid_t p = pt_wait_all(continued, false, timeout))
    throw std::runtime_error("thaw_tree(" + std::to_string(root) + "): pid " + std::to_string(p) +
                             " is still stopped");
}

FrozenTree::FrozenTree(pid_t root, std::chrono::milliseconds timeout) : root_(root) {
  pids_ = freeze_tree(root, timeout);
  frozen_ = true;
  for (pid_t p : pids_)
    if (auto s = pt_read_stat(p)) identities_.emplace_back(p, s->start);
}

FrozenTree::~FrozenTree() {
  try {
    thaw();
  } catch (...) {
  }
}

void FrozenTree::thaw() {
  if (!frozen_) return;
  frozen_ = false;
  auto tree = process_tree(root_);
  thaw_tree(root_);
  // Processes we froze that are no longer in the tree (their parent died meanwhile): still ours to thaw.
  std::vector<pid_t> strays;
  for (const auto& [pid, start] : identities_) {
    if (std::find(tree.begin(), tree.end(), pid) != tree.end()) continue;
    auto s = pt_read_stat(pid);
    if (s && s->start == start && s->state == 'T' && ::kill(pid, SIGCONT) == 0) strays.push_back(pid);
  }
  pt_wait_all(strays, false, std::chrono::seconds(10));
}

}  // namespace dive::testing
