#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dive {

std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep, bool keep_empty = false);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
bool iequals(std::string_view a, std::string_view b);
bool ends_with(std::string_view s, std::string_view suffix);
// Every occurrence of `from` (non-empty) replaced by `to`.
std::string replace_all(std::string_view s, std::string_view from, std::string_view to);
// The whole of `s` as a decimal integer (optional leading '-'), or nothing: "10abc", " 10", "" and
// out-of-range values are not numbers.
std::optional<int64_t> parse_int(std::string_view s);
// Human-readable byte and duration formatting for CLI output.
std::string format_bytes(uint64_t bytes);
std::string format_duration_ms(int64_t ms);

}  // namespace dive
