#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace dive {
using Json = nlohmann::json;

// Parses untrusted text with a nesting limit; throws std::invalid_argument with a short reason
// (never echoing the input) when the text is not JSON or nests deeper than max_depth.
Json parse_json_limited(std::string_view text, int max_depth = 64);
}  // namespace dive
