#include "orchestrator/pidfile.hpp"

#include "common/fs.hpp"
#include "common/json.hpp"
#include "common/process.hpp"

namespace dive::orch {

void write_pid_record(const std::filesystem::path& file, pid_t pid) {
  Json j = {{"pid", pid}, {"start_time", proc_start_time(pid).value_or(0)}, {"argv0", proc_cmdline(pid)}};
  write_file_atomic(file, j.dump() + "\n", 0644);
}

std::optional<PidRecord> read_pid_record(const std::filesystem::path& file) {
  auto text = try_read_file(file);
  if (!text) return std::nullopt;
  try {
    Json j = Json::parse(*text);
    return PidRecord{j.at("pid").get<pid_t>(), j.value("start_time", uint64_t{0}), file.string()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

bool record_is_live(const PidRecord& r) {
  return r.pid > 0 && pid_alive(r.pid) && proc_start_time(r.pid) == r.start_time;
}

std::vector<PidRecord> live_records(const std::filesystem::path& run_dir) {
  std::vector<PidRecord> out;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator(run_dir, ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().extension() != ".pid") continue;
    if (auto r = read_pid_record(it->path()); r && record_is_live(*r)) out.push_back(*r);
  }
  return out;
}

}  // namespace dive::orch
