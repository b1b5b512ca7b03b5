#pragma once
// Instance operations shared by `hub ...`, `spoke ...` and `up`/`down`.
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "orchestrator/console.hpp"
#include "orchestrator/federation_ops.hpp"

namespace dive::cli {

// `host`/`bind`: --host/--bind (both empty: the instance keeps its placement).
// `join`: a spoke joining a hub on another machine (--join / --hub).
int deploy_one(const std::string& code, const std::string& profile_flag, std::optional<int> seed,
               const orch::Console& out, const std::string& host = "", const std::string& bind = "",
               const orch::JoinOptions& join = {});
int start_one(const std::string& code, const orch::Console& out);
int stop_one(const std::string& code, const orch::Console& out);
int print_status(const std::string& code, bool json);
int service_verb(const std::string& code, const std::string& verb, const std::string& svc,
                 const orch::Console& out);
// `hub upgrade` / `spoke upgrade CODE` (orchestrator/upgrade.hpp); `backup`: take the pre-upgrade backup
// (its passphrase from `passphrase_file`, else DIVE_BACKUP_PASSPHRASE).
int upgrade_one(const std::string& code, bool backup, const std::string& passphrase_file, bool json);
// The table of a supervisor's processes (state, health, pid, restarts, port, memory, last exit).
void print_process_table(const Json& services);
// The URL table printed after `up`.
void print_urls(const std::vector<std::string>& codes);

}  // namespace dive::cli
