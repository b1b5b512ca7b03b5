#pragma once
// RFC 3339 timestamps as OPA's time.parse_rfc3339_ns reads them (Go time.Parse(time.RFC3339, s)).
#include <cstdint>
#include <optional>
#include <string_view>

namespace dive::policy {

// Nanoseconds since the Unix epoch, or nullopt when Go would reject the text or the instant does not
// fit an int64 of nanoseconds. Accepts "2006-01-02T15:04:05Z", an optional fraction (after '.' or ','),
// and a "+hh:mm"/"-hh:mm" offset; the hour may have one digit, as Go's general parser allows.
std::optional<int64_t> parse_rfc3339_ns(std::string_view s);

}  // namespace dive::policy
