#pragma once
// Standard process gauges (resident memory, open fds, uptime) sampled at exposition time.
#include "metrics/registry.hpp"

namespace dive::metrics {
void register_process_metrics(Registry& r, const std::string& service);
}
