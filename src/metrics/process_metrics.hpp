#pragma once
// Standard process gauges sampled at exposition time: resident memory and the memory limit, open and
// allowed file descriptors, uptime; and dive_v3_build_info{version,revision}.
#include "metrics/registry.hpp"

namespace dive::metrics {
void register_build_info(Registry& r);
void register_process_metrics(Registry& r, const std::string& service);  // includes the build info
}  // namespace dive::metrics
