#include "metrics/process_metrics.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "common/process.hpp"

namespace dive::metrics {

void register_process_metrics(Registry& r, const std::string& service) {
  auto& rss = r.gauge("dive_v3_process_resident_memory_bytes", "Resident memory of this process", {"service"})
                  .labels({service});
  auto& fds = r.gauge("dive_v3_process_open_fds", "Open file descriptors of this process", {"service"})
                  .labels({service});
  auto& up = r.gauge("dive_v3_process_uptime_seconds", "Seconds since this process started", {"service"})
                 .labels({service});
  auto start = std::chrono::steady_clock::now();
  r.add_collector([&rss, &fds, &up, start] {
    if (auto b = dive::proc_rss_bytes(::getpid())) rss.set(static_cast<double>(*b));
    std::error_code ec;
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      ++n;
    fds.set(static_cast<double>(n));
    up.set(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace dive::metrics
