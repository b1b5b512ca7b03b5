#include "orchestrator/control_socket.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace dive::orch {

namespace {
sockaddr_un address(const std::filesystem::path& socket) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string s = socket.string();
  if (s.size() >= sizeof a.sun_path)
    throw std::runtime_error("socket path too long (" + std::to_string(s.size()) + " bytes): " + s +
                             "; choose a shorter DIVE_HOME");
  std::memcpy(a.sun_path, s.c_str(), s.size() + 1);
  return a;
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};
}  // namespace

std::optional<Json> supervisor_request(const std::filesystem::path& socket, const Json& request,
                                       std::chrono::milliseconds timeout) {
  if (!std::filesystem::exists(socket)) return std::nullopt;
  Fd s{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) return std::nullopt;
  auto a = address(socket);
  if (::connect(s.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return std::nullopt;
  std::string line = request.dump() + "\n";
  auto deadline = std::chrono::steady_clock::now() + timeout;
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::send(s.fd, line.data() + off, line.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    off += static_cast<size_t>(n);
  }
  std::string resp;
  char buf[8192];
  while (resp.find('\n') == std::string::npos) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{s.fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return std::nullopt;
    ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    resp.append(buf, static_cast<size_t>(n));
  }
  try {
    return Json::parse(resp.substr(0, resp.find('\n')));
  } catch (const Json::parse_error&) {
    return std::nullopt;
  }
}

int control_listen(const std::filesystem::path& socket) {
  auto a = address(socket);
  ::unlink(socket.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
  mode_t old = ::umask(0077);
  int rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::umask(old);
  if (rc != 0 || ::listen(fd, 16) != 0) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot listen on " + socket.string() + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace dive::orch
