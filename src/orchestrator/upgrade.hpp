#pragma once
// Upgrading a running instance to the binary that runs this code (docs/ORCHESTRATION.md, "Upgrades"):
// under the instance's deployment locks, a backup (unless told not to), the database migrated forward to this
// binary's schema, then its services restarted one at a time — each gracefully: a new process starts beside
// the old one on the same listening socket, and the old one drains once the new one answers ready, so a
// client sees no refused connection and no failed request.
#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "orchestrator/console.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

struct UpgradeOptions {
  std::string code;
  // Takes the pre-upgrade backup and returns its file; empty: no backup (the operator said --no-backup).
  std::function<std::string()> backup;
  std::chrono::milliseconds lock_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds service_timeout{std::chrono::seconds(90)};
};

struct UpgradeResult {
  int exit_code = 0;  // 0 ok, 1 failed (reason says why; what was done before stays done)
  std::string reason;
  std::string backup_file;
  int schema_before = 0, schema_after = 0;
  std::vector<std::string> migrations_applied;
  Json services = Json::array();  // [{name, oldPid, newPid, graceful, seconds}]
  double seconds = 0;
  Json to_json() const;
};

UpgradeResult upgrade_instance(const Layout& layout, const UpgradeOptions& options, const Console& out);

}  // namespace dive::orch
