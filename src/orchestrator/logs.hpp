#pragma once
// `logs [SVC] [-f]`: the last lines of an instance's service logs, optionally followed.
#include <string>
#include <vector>

#include "orchestrator/layout.hpp"

namespace dive::orch {

// Prints the last `lines` lines of each log (prefixed with the service name when there are several);
// with `follow`, keeps printing what is appended until interrupted. Returns false when no log exists.
bool print_logs(const InstancePaths& paths, const std::vector<std::string>& services, size_t lines,
                bool follow);

}  // namespace dive::orch
