#pragma once
// Deployment states and the transitions allowed between them (the same table as the database's
// valid_state_transitions, migration 001).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dive::orch {

enum class DeployState {
  Unknown,
  Initializing,
  Deploying,
  Configuring,
  Verifying,
  Complete,
  Failed,
  RollingBack,
  Cleanup
};

const char* to_string(DeployState s);  // "UNKNOWN", "INITIALIZING", ...
std::optional<DeployState> parse_state(std::string_view s);

bool transition_allowed(DeployState from, DeployState to);
// The shortest valid path from `from` to `to` (excluding `from`), empty when none or when equal.
std::vector<DeployState> path_to(DeployState from, DeployState to);

}  // namespace dive::orch
