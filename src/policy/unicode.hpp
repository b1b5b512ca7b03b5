#pragma once
// The bits of Go's Unicode handling that OPA's builtins expose to the policy: strings.ToUpper /
// strings.ToLower (simple one-to-one case mapping) and strconv.IsPrint (used by %v quoting).
#include <string>
#include <string_view>

namespace dive::policy::unicode {

// Decodes the code point at s[i] and advances i. An invalid or truncated sequence yields U+FFFD and
// advances one byte (Go's utf8.DecodeRuneInString); `valid` reports which case it was.
char32_t decode(std::string_view s, size_t& i, bool& valid);
void append_utf8(std::string& out, char32_t c);

char32_t to_upper(char32_t c);
char32_t to_lower(char32_t c);
bool is_print(char32_t c);

// Go strings.ToUpper / strings.ToLower (invalid UTF-8 becomes U+FFFD, as strings.Map does).
std::string upper(std::string_view s);
std::string lower(std::string_view s);

}  // namespace dive::policy::unicode
