#pragma once
// The deploy pipeline (docs/ORCHESTRATION.md), hub and spoke alike:
//   PREFLIGHT -> INITIALIZATION -> DEPLOYING -> CONFIGURING -> SEEDING -> VERIFYING -> COMPLETE | FAILED
// Every state change is validated and recorded in the orchestration database (the hub's PostgreSQL); one
// deploy per instance at a time (a file lock plus the database's advisory lock, held for the whole run);
// a persisted circuit breaker per instance refuses deploys after repeated step failures (exit code 2);
// transient steps are retried with exponential backoff and jitter.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "orchestrator/console.hpp"
#include "orchestrator/federation_ops.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/layout.hpp"
#include "resilience/retry.hpp"

namespace dive::orch {

struct OrchPolicy {
  resilience::RetryPolicy retry{5, {Millis(2000), 2.0, Millis(60000), Millis(1000)}};
  int breaker_threshold = 5;
  std::chrono::seconds breaker_cooldown{60};
  std::chrono::milliseconds lock_timeout{30000};
  std::chrono::milliseconds health_timeout{180000};
  // Defaults for the profile (test: short retries and a 5 s breaker cooldown), then the environment:
  // DIVE_ORCH_RETRY_ATTEMPTS, DIVE_ORCH_RETRY_INITIAL_MS, DIVE_ORCH_RETRY_MAX_MS,
  // DIVE_ORCH_BREAKER_THRESHOLD, DIVE_ORCH_BREAKER_COOLDOWN_S, DIVE_ORCH_LOCK_TIMEOUT_MS.
  static OrchPolicy for_profile(Profile p);
};

struct DeployOptions {
  std::string code;  // upper-case
  Profile profile = Profile::Dev;
  int port_shift = 0;
  std::optional<int> seed_count;
  std::optional<Placement>
      placement;  // --host/--bind; absent: the instance keeps its own (default localhost)
  std::filesystem::path dive_exe;
  OrchPolicy policy;
  JoinOptions join;  // a spoke on another machine: --join TOKEN, or --hub URL --hub-ca-fingerprint FP
  bool skip_seeding = false;  // a restored instance: its documents came with it (seed.count is left as it is)
};

struct DeployResult {
  int exit_code = 0;  // 0 ok, 1 failed, 2 refused by the open breaker
  std::string failed_step;
  std::string reason;
  double seconds = 0;
};

DeployResult deploy_instance(const Layout& layout, const DeployOptions& opts, const Console& out);

// libpq connection string of the orchestration database: the hub's PostgreSQL; in a home without a hub,
// that of the standalone spoke `code` (empty: the first deployed instance).
std::string orchestration_conninfo(const Layout& layout, const std::string& code = "");

}  // namespace dive::orch
