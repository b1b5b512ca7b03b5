#pragma once
// Is a loopback port free, and if not, who holds it (pid and command line, from /proc).
#include <sys/types.h>

#include <optional>
#include <string>

namespace dive::orch {

// True when nothing listens on the port (a bind to `address` — an IPv4 literal, 127.0.0.1 by default — with
// SO_REUSEADDR succeeds).
bool port_free(int port, const std::string& address = "127.0.0.1");

struct PortHolder {
  pid_t pid = -1;       // -1 when the listener's process is not visible to us
  std::string command;  // its command line
};
// The process listening on the port (IPv4 or IPv6), if any.
std::optional<PortHolder> port_holder(int port);
// "pid 1234 (redis-server 127.0.0.1:6379)" or "an unknown process".
std::string describe_holder(const std::optional<PortHolder>& h);

}  // namespace dive::orch
