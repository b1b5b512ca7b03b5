#include "metrics/process_metrics.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "common/build_info.hpp"
#include "common/process.hpp"

namespace dive::metrics {

void register_build_info(Registry& r) {
  r.gauge("dive_v3_build_info", "The running binary: 1, labelled with its version and git revision",
          {"version", "revision"})
      .labels({build_version(), build_revision()})
      .set(1);
}

void register_process_metrics(Registry& r, const std::string& service) {
  register_build_info(r);
  auto& rss = r.gauge("dive_v3_process_resident_memory_bytes", "Resident memory of this process", {"service"})
                  .labels({service});
  auto& mem_limit =
      r.gauge("dive_v3_process_memory_limit_bytes",
              "Memory this process may use: its cgroup's memory.max, else the machine's memory", {"service"})
          .labels({service});
  auto& fds = r.gauge("dive_v3_process_open_fds", "Open file descriptors of this process", {"service"})
                  .labels({service});
  auto& max_fds = r.gauge("dive_v3_process_max_fds", "File descriptors this process may open (RLIMIT_NOFILE)",
                          {"service"})
                      .labels({service});
  auto& up = r.gauge("dive_v3_process_uptime_seconds", "Seconds since this process started", {"service"})
                 .labels({service});
  auto start = std::chrono::steady_clock::now();
  r.add_collector([&rss, &mem_limit, &fds, &max_fds, &up, start] {
    if (auto b = dive::proc_rss_bytes(::getpid())) rss.set(static_cast<double>(*b));
    if (auto m = dive::memory_limit_bytes()) mem_limit.set(static_cast<double>(*m));
    std::error_code ec;
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
      ++n;
    fds.set(static_cast<double>(n));
    if (auto l = dive::open_files_limit()) max_fds.set(static_cast<double>(*l));
    up.set(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  });
}

}  // namespace dive::metrics
