#include "orchestrator/state_machine.hpp"

#include <array>
#include <deque>
#include <map>

namespace dive::orch {

namespace {
constexpr std::array<std::pair<DeployState, const char*>, 9> kNames{
    {{DeployState::Unknown, "UNKNOWN"},
     {DeployState::Initializing, "INITIALIZING"},
     {DeployState::Deploying, "DEPLOYING"},
     {DeployState::Configuring, "CONFIGURING"},
     {DeployState::Verifying, "VERIFYING"},
     {DeployState::Complete, "COMPLETE"},
     {DeployState::Failed, "FAILED"},
     {DeployState::RollingBack, "ROLLING_BACK"},
     {DeployState::Cleanup, "CLEANUP"}}};
}  // namespace

const char* to_string(DeployState s) {
  for (const auto& [st, name] : kNames)
    if (st == s) return name;
  return "UNKNOWN";
}

std::optional<DeployState> parse_state(std::string_view s) {
  for (const auto& [st, name] : kNames)
    if (s == name) return st;
  return std::nullopt;
}

bool transition_allowed(DeployState from, DeployState to) {
  using S = DeployState;
  if (to == S::Failed) return from != S::Cleanup && from != S::Failed;  // anything but CLEANUP may fail
  switch (from) {
    case S::Unknown:
      return to == S::Initializing;
    case S::Initializing:
      return to == S::Deploying;
    case S::Deploying:
      return to == S::Configuring;
    case S::Configuring:
      return to == S::Verifying;
    case S::Verifying:
      return to == S::Complete;
    case S::Complete:
      return to == S::Cleanup || to == S::Initializing;
    case S::Failed:
      return to == S::RollingBack || to == S::Initializing;
    case S::RollingBack:
      return to == S::Cleanup;
    case S::Cleanup:
      return to == S::Unknown;
  }
  return false;
}

std::vector<DeployState> path_to(DeployState from, DeployState to) {
  if (from == to) return {};
  std::map<DeployState, DeployState> prev;
  std::deque<DeployState> q{from};
  prev[from] = from;
  while (!q.empty()) {
    DeployState cur = q.front();
    q.pop_front();
    for (const auto& [next, name] : kNames) {
      (void)name;
      if (prev.count(next) || !transition_allowed(cur, next)) continue;
      prev[next] = cur;
      if (next == to) {
        std::vector<DeployState> path{to};
        for (DeployState s = cur; s != from; s = prev[s]) path.insert(path.begin(), s);
        return path;
      }
      q.push_back(next);
    }
  }
  return {};
}

}  // namespace dive::orch
