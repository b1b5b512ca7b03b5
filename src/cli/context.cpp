#include "cli/context.hpp"

#include <cstdlib>

#include "common/fs.hpp"
#include "orchestrator/ports.hpp"

namespace dive::cli {

Context& ctx() {
  static Context c;
  return c;
}

std::string parse_code(const std::string& raw) {
  auto code = orch::normalize_code(raw);
  if (!code) throw UsageError("instance code must be three letters, like FRA or tst (got '" + raw + "')");
  if (*code == "HUB") return std::string(orch::kHubCode);
  return *code;
}

std::string parse_spoke_code(const std::string& raw) {
  auto code = parse_code(raw);
  if (orch::is_hub(code)) throw UsageError(code + " is the hub: use ./dive hub ...");
  return code;
}

orch::Profile resolve_profile(const std::string& flag, const std::string& code) {
  auto parse = [](const std::string& s) {
    auto p = orch::parse_profile(s);
    if (!p) throw UsageError("profile must be dev or test (got '" + s + "')");
    return *p;
  };
  if (!flag.empty()) return parse(flag);
  auto paths = ctx().layout.instance(code);
  if (auto text = try_read_file(paths.instance_json)) {
    try {
      if (auto p = orch::parse_profile(Json::parse(*text).value("profile", ""))) return *p;
    } catch (...) {
    }
  }
  if (const char* e = std::getenv("DIVE_PROFILE"); e && *e) return parse(e);
  return orch::Profile::Dev;
}

int resolve_port_shift(const std::string& code) {
  if (const char* e = std::getenv("DIVE_PORT_SHIFT"); e && *e) {
    try {
      return orch::port_shift_from_env();
    } catch (const std::invalid_argument& ex) {
      throw UsageError(ex.what());
    }
  }
  auto paths = ctx().layout.instance(code);
  if (auto text = try_read_file(paths.instance_json)) {
    try {
      return Json::parse(*text).value("port_shift", 0);
    } catch (...) {
    }
  }
  return 0;
}

}  // namespace dive::cli
