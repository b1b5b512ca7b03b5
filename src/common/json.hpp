#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace dive {
using Json = nlohmann::json;

// Parses untrusted text with a nesting limit; throws std::invalid_argument with a short reason
// (never echoing the input) when the text is not JSON or nests deeper than max_depth.
Json parse_json_limited(std::string_view text, int max_depth = 64);

// Appends `s` as a quoted JSON string: '"' and '\\' escaped, \b \f \n \r \t, other controls as
// \u00xx (lower-case), everything else as is (no UTF-8 check). The same bytes nlohmann's dump() and
// RFC 8785 (JCS) write.
void append_json_string(std::string& out, std::string_view s);
// The same without the quotes (for text spliced into a string that is already open).
void append_json_escaped(std::string& out, std::string_view s);
}  // namespace dive
