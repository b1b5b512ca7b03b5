#pragma once
// Listening sockets the supervisor holds for its services (docs/ORCHESTRATION.md, "Graceful restarts").
#include <sys/types.h>

#include <string>

namespace dive::orch {

// A TCP socket bound to address:port and listening (close-on-exec, SO_REUSEADDR, backlog SOMAXCONN); -1 with
// `error` set when it cannot be had (the port is taken, the address is not this machine's).
int bind_listening_socket(const std::string& address, int port, std::string* error);

// A copy of the socket listening on TCP `port` held by the process behind `pidfd` (a service a previous
// supervisor started): pidfd_getfd of its descriptor whose inode /proc/net/tcp lists as listening there; -1
// when it holds none (or the kernel refuses).
int take_listening_socket(pid_t pid, int pidfd, int port);

}  // namespace dive::orch
