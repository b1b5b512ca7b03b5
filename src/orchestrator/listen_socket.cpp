#include "orchestrator/listen_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/strings.hpp"

namespace dive::orch {

namespace {

// The inodes of the sockets listening on TCP `port` (/proc/net/tcp and tcp6: state 0A).
std::set<std::string> listening_inodes(int port) {
  std::set<std::string> out;
  char want[8];
  std::snprintf(want, sizeof want, ":%04X", port);
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, st, queues, tr, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> st >> queues >> tr >> retr >> uid >> timeout >> inode;
      if (st == "0A" && local.size() > 5 && local.compare(local.size() - 5, 5, want) == 0) out.insert(inode);
    }
  }
  return out;
}

}  // namespace

int take_listening_socket(pid_t pid, int pidfd, int port) {
  const auto inodes = listening_inodes(port);
  if (inodes.empty()) return -1;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code lec;
    const std::string target = std::filesystem::read_symlink(e.path(), lec).string();
    if (lec || target.rfind("socket:[", 0) != 0) continue;
    if (!inodes.count(target.substr(8, target.size() - 9))) continue;
    auto n = parse_int(e.path().filename().string());
    if (!n) continue;
    const int fd = static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd, static_cast<int>(*n), 0));
    if (fd >= 0) return fd;  // close-on-exec already
  }
  return -1;
}

int bind_listening_socket(const std::string& address, int port, std::string* error) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (error) *error = std::strerror(errno);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const std::string host = address == "localhost" ? "127.0.0.1" : address;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    if (error) *error = "not an IPv4 address: " + host;
    return -1;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    const int err = errno;
    ::close(fd);
    if (error) *error = std::strerror(err);
    return -1;
  }
  return fd;
}

}  // namespace dive::orch
