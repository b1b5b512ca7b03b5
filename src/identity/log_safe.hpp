#pragma once
// Text from a token or a remote party made safe for a log line: printable ASCII only (anything else
// becomes '?'), at most max_len characters (then "..."). Used for values such as an untrusted issuer or
// kid; never pass a token or a signature here — they are not logged at all.
#include <string>
#include <string_view>

namespace dive::identity {

inline std::string log_safe(std::string_view s, size_t max_len = 80) {
  std::string out;
  size_t n = std::min(s.size(), max_len);
  out.reserve(n + 3);
  for (size_t i = 0; i < n; ++i) {
    char c = s[i];
    out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
  }
  if (s.size() > max_len) out += "...";
  return out;
}

}  // namespace dive::identity
