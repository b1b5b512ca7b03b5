#include "common/paths.hpp"

#include <cstdlib>

namespace dive {

namespace fs = std::filesystem;

fs::path self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : p;
}

fs::path checkout_root() {
  if (const char* r = std::getenv("DIVE_ROOT"); r && *r) return fs::absolute(r);
  for (fs::path p = self_exe().parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
    if (fs::exists(p / "CMakeLists.txt") && fs::exists(p / "dive")) return p;
  }
  return {};
}

fs::path dive_home() {
  if (const char* h = std::getenv("DIVE_HOME"); h && *h) return fs::absolute(h);
  if (auto root = checkout_root(); !root.empty()) return root / ".dive";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/tmp") / ".dive";
}

fs::path monitoring_assets_dir() {
  if (const char* d = std::getenv("DIVE_MONITORING_ASSETS"); d && *d) return fs::absolute(d);
  return checkout_root() / "monitoring";
}

fs::path data_dir() {
  if (const char* d = std::getenv("DIVE_DATA"); d && *d) return fs::absolute(d);
  return checkout_root() / "data";
}

}  // namespace dive
