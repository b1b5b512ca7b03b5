#pragma once
// What a query of the audit trail may ask (`./dive audit ...` and GET /api/admin/audit take the same
// parameters): user, resource, since, until, type, outcome, limit, cursor. Parsing is strict: an unknown
// parameter or a bad value is a FilterError naming it, so a caller gets a clear 400 (or exit 64), never a
// silently wider query. Values reach SQL only as bind parameters (pg_store.cpp).
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dive::audit {

struct FilterError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct Filter {
  std::string actor;     // exact
  std::string resource;  // exact
  std::string type;      // exact, or a prefix when it ends with "*" (type_prefix set; the "*" removed)
  bool type_prefix = false;
  std::string outcome;                // allow | deny | success | failure
  std::optional<int64_t> since_ms;    // at_ms >= since
  std::optional<int64_t> until_ms;    // at_ms < until
  std::optional<int64_t> before_seq;  // cursor: seq < before_seq (newest first)
  int limit = 100;
};

// A time: ISO 8601 / RFC 3339 ("2026-12-07T10:00:00Z", with a fraction or a ±hh:mm offset, or a date
// alone, "2026-12-07", meaning its midnight UTC) or relative to `now_ms` ("90s", "15m", "24h", "7d", "2w":
// that long ago). nullopt when it is neither.
std::optional<int64_t> parse_time(std::string_view text, int64_t now_ms);

// The filter of query parameters (names as above; empty values are ignored). `max_limit` caps limit
// (values above it are an error, so nobody believes they got everything). Throws FilterError.
Filter parse_filter(const std::map<std::string, std::string>& params, int64_t now_ms, int max_limit,
                    int default_limit = 100);

// ISO 8601 UTC with milliseconds: "2026-12-07T10:00:00.123Z".
std::string format_time(int64_t ms);

}  // namespace dive::audit
