#include "policy/levels.hpp"

namespace dive::policy {
namespace {

std::optional<int> find(const std::array<std::string_view, 5>& names, std::string_view name) {
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  return std::nullopt;
}

}  // namespace

std::optional<int> canonical_rank(std::string_view name) {
  return find(kCanonicalLevels, name);
}

std::optional<int> nato_rank(std::string_view name) {
  return find(kNatoLevels, name);
}

std::optional<int> english_rank(std::string_view upper_name) {
  if (upper_name == "TOP SECRET") return 4;
  return canonical_rank(upper_name);
}

}  // namespace dive::policy
