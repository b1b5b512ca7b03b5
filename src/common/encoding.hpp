#pragma once
// Byte encodings and digests used across the code base (base64, base64url, hex, SHA-2).
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dive {

std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);  // nullopt on malformed input
std::string base64url_encode(std::string_view bytes);             // no padding
std::optional<std::string> base64url_decode(std::string_view text);
std::string hex_encode(std::string_view bytes);

std::string sha256(std::string_view data);                             // raw 32 bytes
std::string sha384(std::string_view data);                             // raw 48 bytes
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
inline std::string sha256_hex(std::string_view data) {
  return hex_encode(sha256(data));
}

// Percent-encoding for a query component (unreserved characters kept).
std::string url_encode(std::string_view s);
// `base` plus the parameters as a query ("?" or "&" as needed).
std::string add_query(const std::string& base,
                      const std::vector<std::pair<std::string, std::string>>& params);

// Constant-time comparison for secrets and MACs.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace dive
