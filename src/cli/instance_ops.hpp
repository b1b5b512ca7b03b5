#pragma once
// Instance operations shared by `hub ...`, `spoke ...` and `up`/`down`.
#include <optional>
#include <string>
#include <vector>

#include "orchestrator/console.hpp"

namespace dive::cli {

int deploy_one(const std::string& code, const std::string& profile_flag, std::optional<int> seed,
               const orch::Console& out);
int start_one(const std::string& code, const orch::Console& out);
int stop_one(const std::string& code, const orch::Console& out);
int print_status(const std::string& code, bool json);
int service_verb(const std::string& code, const std::string& verb, const std::string& svc,
                 const orch::Console& out);
// The URL table printed after `up`.
void print_urls(const std::vector<std::string>& codes);

}  // namespace dive::cli
