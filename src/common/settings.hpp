#pragma once
// Typed, checked reads of a configuration document (instance.json): each read names a dotted path, its
// default when the path is absent (or null) and what is allowed; anything else is a ConfigError that names
// the file and the path, so that a bad setting stops a process at start with a message saying which one —
// never a negative timeout taken as a huge one, a zero capacity or a string read as 0.
//
//   SettingsReader r(instance);
//   Millis timeout = r.millis("api.pdp_timeout_ms", Millis(2000));
//   size_t capacity = r.count("api.decision_cache_capacity", 100000);
#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/json.hpp"

namespace dive {

class SettingsReader {
 public:
  // `root` must outlive the reader. `source` names it in messages ("instance.json").
  explicit SettingsReader(const Json& root, std::string source = "instance.json");

  bool has(std::string_view path) const { return find(path) != nullptr; }
  std::string text(std::string_view path, std::string def) const;
  std::vector<std::string> texts(std::string_view path) const;  // an array of strings; [] when absent
  bool flag(std::string_view path, bool def) const;
  // A whole number in [min, max].
  int64_t whole(std::string_view path, int64_t def, int64_t min,
                int64_t max = std::numeric_limits<int32_t>::max()) const;
  // A number (whole or not) in [min, max].
  double number(std::string_view path, double def, double min, double max) const;
  // Durations: whole numbers of the path's unit, at least `min` (a timeout or an interval of 0 or less is
  // refused unless min says otherwise).
  Millis millis(std::string_view path, Millis def, Millis min = Millis(1)) const;
  std::chrono::seconds seconds(std::string_view path, std::chrono::seconds def,
                               std::chrono::seconds min = std::chrono::seconds(1)) const;
  // A capacity or a size: a whole number, at least `min`.
  size_t count(std::string_view path, size_t def, size_t min = 1) const;
  uint16_t port(std::string_view path, uint16_t def) const;  // 1..65535

  // The value at the path, or null when absent (or null).
  const Json* find(std::string_view path) const;
  // Throws the ConfigError of a value at `path` that is not `what`.
  [[noreturn]] void refuse(std::string_view path, const std::string& what, const Json& got) const;

 private:
  int64_t bounded(std::string_view path, int64_t def, int64_t min, int64_t max,
                  const std::string& what) const;

  const Json& root_;
  std::string source_;
};

}  // namespace dive
