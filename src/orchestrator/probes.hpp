#pragma once
// Readiness probes the supervisor runs against its children.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "orchestrator/child_spec.hpp"

namespace dive::net {
class HttpTransport;
}

namespace dive::orch {

class Prober {
 public:
  virtual ~Prober() = default;
  // True when the child answers as ready: PostgreSQL accepts our credentials (and its databases exist),
  // Redis answers PING after AUTH, a service answers 200 on its ready path (https://<host>:<port>) over
  // verified TLS.
  virtual bool ready(const ChildSpec& child) = 0;
  // Liveness of a service (GET /health/live); data stores count as live when ready.
  virtual bool live(const ChildSpec& child) { return ready(child); }
  // The pid of the service process that answered its ready path with 200 on a new connection (two processes
  // share the port during a graceful restart); nothing when none answered ready.
  virtual std::optional<int64_t> ready_pid(const ChildSpec& child) {
    (void)child;
    return std::nullopt;
  }
};

class RealProber final : public Prober {
 public:
  explicit RealProber(const std::string& ca_file,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  ~RealProber() override;
  bool ready(const ChildSpec& child) override;
  bool live(const ChildSpec& child) override;
  std::optional<int64_t> ready_pid(const ChildSpec& child) override;

 private:
  bool https_ok(const std::string& host, int port, const std::string& path);
  std::unique_ptr<net::HttpTransport> http_;
  std::chrono::milliseconds timeout_;
  bool databases_ensured_ = false;
  bool roles_ensured_ = false;
};

// Redis PING with AUTH over a raw socket (RESP); true on +PONG.
// `user`: an ACL user (AUTH user password); empty: the default user.
bool redis_ping(int port, const std::string& password, std::chrono::milliseconds timeout,
                const std::string& user = "");

}  // namespace dive::orch
