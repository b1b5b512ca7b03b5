#include "orchestrator/port_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/process.hpp"

namespace dive::orch {

namespace fs = std::filesystem;

bool port_free(int port, const std::string& address) {
  if (port <= 0 || port > 65535) return false;
  in_addr addr{};
  if (::inet_pton(AF_INET, address.c_str(), &addr) != 1) return false;
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr = addr;
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && ::listen(fd, 1) == 0;
  ::close(fd);
  return ok;
}

namespace {
// Socket inodes listening on `port`, from /proc/net/tcp and tcp6 (state 0A = LISTEN).
std::vector<std::string> listening_inodes(int port) {
  std::vector<std::string> out;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(file);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream ss(line);
      std::string sl, local, remote, st, queues, timer, retr, uid, timeout, inode;
      ss >> sl >> local >> remote >> st >> queues >> timer >> retr >> uid >> timeout >> inode;
      if (st != "0A") continue;
      auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) out.push_back(inode);
    }
  }
  return out;
}
}  // namespace

std::optional<PortHolder> port_holder(int port) {
  auto inodes = listening_inodes(port);
  if (inodes.empty()) return std::nullopt;
  // Several processes can share one listening socket (inherited across fork); the one that has held
  // it longest (the lowest start time) is the one that opened it.
  std::optional<PortHolder> best;
  uint64_t best_start = UINT64_MAX;
  std::error_code ec;
  for (auto it = fs::directory_iterator("/proc", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::error_code ec2;
    bool holds = false;
    for (auto fd = fs::directory_iterator(it->path() / "fd", ec2);
         !ec2 && fd != fs::directory_iterator() && !holds; fd.increment(ec2)) {
      std::error_code ec3;
      auto target = fs::read_symlink(fd->path(), ec3).string();
      if (ec3 || target.rfind("socket:[", 0) != 0) continue;
      auto inode = target.substr(8, target.size() - 9);
      holds = std::find(inodes.begin(), inodes.end(), inode) != inodes.end();
    }
    if (!holds) continue;
    pid_t pid = static_cast<pid_t>(std::stol(name));
    uint64_t start = proc_start_time(pid).value_or(UINT64_MAX - 1);
    if (!best || start < best_start) {
      best = PortHolder{pid, proc_cmdline(pid)};
      best_start = start;
    }
  }
  return best ? best : std::optional<PortHolder>(PortHolder{});
}

std::string describe_holder(const std::optional<PortHolder>& h) {
  if (!h || h->pid < 0) return "an unknown process";
  std::string cmd = h->command.size() > 80 ? h->command.substr(0, 77) + "..." : h->command;
  return "pid " + std::to_string(h->pid) + " (" + cmd + ")";
}

}  // namespace dive::orch
