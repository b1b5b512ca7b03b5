#pragma once
// Raw-socket helpers for the net tests: a blocking client connection that speaks bytes, a parser for one
// HTTP response, and a scripted server for client tests.
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace dive::net::testing {

using std::chrono::milliseconds;

struct RawResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

class RawConn {
 public:
  explicit RawConn(uint16_t port);  // 127.0.0.1; throws std::runtime_error when the connect fails
  ~RawConn();
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool send(const std::string& data);
  // One response (header block plus Content-Length body); status 0 when the connection closed or the
  // timeout passed first.
  RawResponse read_response(milliseconds timeout = milliseconds(3000));
  // True when the peer closes (EOF or reset) within the timeout; data received meanwhile is discarded.
  bool wait_closed(milliseconds timeout = milliseconds(3000));
  // Data or EOF is waiting, or arrives within `wait` (0: no blocking).
  bool readable(milliseconds wait = milliseconds(0)) const;
  int fd() const { return fd_; }

 private:
  bool fill(std::chrono::steady_clock::time_point deadline);  // false on EOF, error or deadline
  int fd_ = -1;
  std::string buf_;
};

// True when a TCP connection to 127.0.0.1:port is accepted.
bool can_connect(uint16_t port);

// Accepts connections on 127.0.0.1 and runs `script(fd, n)` for the n-th one (0-based) on its own thread;
// the script owns nothing: the fd is closed after it returns.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::function<void(int fd, int n)> script);
  ~ScriptedServer();
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

  // Helpers for scripts.
  static std::string read_request(int fd, milliseconds timeout = milliseconds(3000));  // up to the blank line
  static void write_all(int fd, const std::string& data);

 private:
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::function<void(int, int)> script_;
  std::thread thread_;
  std::vector<std::thread> workers_;
};

}  // namespace dive::net::testing
