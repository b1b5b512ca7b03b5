#include "common/settings.hpp"

#include <fmt/format.h>

#include <cmath>

namespace dive {

SettingsReader::SettingsReader(const Json& root, std::string source)
    : root_(root), source_(std::move(source)) {}

const Json* SettingsReader::find(std::string_view path) const {
  const Json* j = find_path(root_, path);
  return j && !j->is_null() ? j : nullptr;
}

void SettingsReader::refuse(std::string_view path, const std::string& what, const Json& got) const {
  std::string shown = got.dump();
  if (shown.size() > 60) shown = shown.substr(0, 60) + "...";
  throw ConfigError(source_ + " " + std::string(path) + " must be " + what + " (got " + shown + ")");
}

std::string SettingsReader::text(std::string_view path, std::string def) const {
  const Json* j = find(path);
  if (!j) return def;
  if (!j->is_string()) refuse(path, "a string", *j);
  return j->get<std::string>();
}

std::vector<std::string> SettingsReader::texts(std::string_view path) const {
  const Json* j = find(path);
  if (!j) return {};
  std::vector<std::string> out;
  if (j->is_array())
    for (const auto& e : *j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  if (!j->is_array() || out.size() != j->size()) refuse(path, "an array of strings", *j);
  return out;
}

bool SettingsReader::flag(std::string_view path, bool def) const {
  const Json* j = find(path);
  if (!j) return def;
  if (!j->is_boolean()) refuse(path, "true or false", *j);
  return j->get<bool>();
}

namespace {
constexpr int64_t kMaxWhole = std::numeric_limits<int32_t>::max();
}  // namespace

int64_t SettingsReader::bounded(std::string_view path, int64_t def, int64_t min, int64_t max,
                                const std::string& what) const {
  const Json* j = find(path);
  if (!j) return def;
  const bool fits = j->is_number_integer() &&
                    (j->is_number_unsigned() ? j->get<uint64_t>() <= static_cast<uint64_t>(max)
                                             : j->get<int64_t>() <= max) &&
                    (j->is_number_unsigned() || j->get<int64_t>() >= min);
  if (!fits || j->get<int64_t>() < min) refuse(path, what, *j);
  return j->get<int64_t>();
}

int64_t SettingsReader::whole(std::string_view path, int64_t def, int64_t min, int64_t max) const {
  return bounded(path, def, min, max,
                 "a whole number from " + std::to_string(min) + " to " + std::to_string(max));
}

double SettingsReader::number(std::string_view path, double def, double min, double max) const {
  const Json* j = find(path);
  if (!j) return def;
  const double v = j->is_number() ? j->get<double>() : std::nan("");
  if (!(v >= min && v <= max)) refuse(path, fmt::format("a number from {:g} to {:g}", min, max), *j);
  return v;
}

Millis SettingsReader::millis(std::string_view path, Millis def, Millis min) const {
  return Millis(bounded(path, def.count(), min.count(), kMaxWhole,
                        "a whole number of milliseconds, at least " + std::to_string(min.count())));
}

std::chrono::seconds SettingsReader::seconds(std::string_view path, std::chrono::seconds def,
                                             std::chrono::seconds min) const {
  return std::chrono::seconds(bounded(path, def.count(), min.count(), kMaxWhole,
                                      "a whole number of seconds, at least " + std::to_string(min.count())));
}

size_t SettingsReader::count(std::string_view path, size_t def, size_t min) const {
  return static_cast<size_t>(bounded(path, static_cast<int64_t>(def), static_cast<int64_t>(min),
                                     std::numeric_limits<int64_t>::max(),
                                     "a whole number, at least " + std::to_string(min)));
}

uint16_t SettingsReader::port(std::string_view path, uint16_t def) const {
  return static_cast<uint16_t>(whole(path, def, 1, 65535));
}

}  // namespace dive
