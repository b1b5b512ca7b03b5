#pragma once
// Recorded pids: {"pid", "start_time", "argv0"} files in an instance's run/ dir. A record matches a live
// process only when both pid and start time agree, so a recycled pid is never taken for ours.
#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace dive::orch {

struct PidRecord {
  pid_t pid = -1;
  uint64_t start_time = 0;
  std::string file;
};

void write_pid_record(const std::filesystem::path& file, pid_t pid);
std::optional<PidRecord> read_pid_record(const std::filesystem::path& file);
bool record_is_live(const PidRecord& r);
// Every live recorded process under run/ (supervisor and children).
std::vector<PidRecord> live_records(const std::filesystem::path& run_dir);

}  // namespace dive::orch
