#pragma once
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace dive::orch::tables {
const std::unordered_map<std::string_view, int>& nato();
const std::unordered_map<std::string_view, int>& partners();
const std::unordered_map<std::string_view, int>& test_codes();
const std::unordered_set<std::string_view>&
iso_countries();  // non-NATO, non-partner ISO codes of the formula group
const std::unordered_map<std::string_view, std::string_view>& names();
}  // namespace dive::orch::tables
