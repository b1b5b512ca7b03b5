#include "orchestrator/logs.hpp"

#include <cstdio>
#include <fstream>
#include <thread>

#include "common/fs.hpp"
#include "common/strings.hpp"

namespace dive::orch {

namespace {
std::vector<std::string> tail_lines(const fs::path& p, size_t n) {
  std::ifstream in(p, std::ios::binary | std::ios::ate);
  if (!in) return {};
  auto size = static_cast<size_t>(in.tellg());
  size_t chunk = std::min<size_t>(size, std::max<size_t>(n * 400, 64 * 1024));
  in.seekg(static_cast<std::streamoff>(size - chunk));
  std::string buf(chunk, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(chunk));
  auto lines = split(buf, '\n');
  if (chunk < size && !lines.empty()) lines.erase(lines.begin());  // a partial first line
  if (lines.size() > n) lines.erase(lines.begin(), lines.end() - static_cast<long>(n));
  return lines;
}
}  // namespace

bool print_logs(const InstancePaths& paths, const std::vector<std::string>& services, size_t lines,
                bool follow) {
  bool any = false;
  const bool prefix = services.size() > 1;
  struct Followed {
    std::string name;
    fs::path path;
    uintmax_t offset;
  };
  std::vector<Followed> followed;
  for (const auto& svc : services) {
    auto p = paths.log(svc);
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (ec) continue;
    any = true;
    for (const auto& l : tail_lines(p, lines))
      std::printf("%s%s\n", prefix ? (svc + " | ").c_str() : "", l.c_str());
    followed.push_back({svc, p, size});
  }
  std::fflush(stdout);
  if (!follow || !any) return any;
  while (true) {
    for (auto& f : followed) {
      std::error_code ec;
      auto size = fs::file_size(f.path, ec);
      if (ec) continue;
      if (size < f.offset) f.offset = 0;  // rotated or truncated
      if (size == f.offset) continue;
      std::ifstream in(f.path, std::ios::binary);
      in.seekg(static_cast<std::streamoff>(f.offset));
      std::string chunk(static_cast<size_t>(size - f.offset), '\0');
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      auto end = chunk.rfind('\n');
      if (end == std::string::npos) continue;  // wait for a whole line
      f.offset += end + 1;
      for (const auto& l : split(chunk.substr(0, end), '\n', true))
        std::printf("%s%s\n", prefix ? (f.name + " | ").c_str() : "", l.c_str());
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace dive::orch
