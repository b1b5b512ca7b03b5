#include "audit/filter.hpp"

#include <ctime>

#include "audit/event.hpp"
#include "common/strings.hpp"
#include "policy/rfc3339.hpp"

namespace dive::audit {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

std::optional<int64_t> parse_relative(std::string_view t, int64_t now_ms) {
  if (t.size() < 2 || !all_digits(t.substr(0, t.size() - 1)) || t.size() > 12) return std::nullopt;
  int64_t n = *parse_int(t.substr(0, t.size() - 1));
  int64_t unit = 0;
  switch (t.back()) {
    case 's':
      unit = 1000;
      break;
    case 'm':
      unit = 60'000;
      break;
    case 'h':
      unit = 3'600'000;
      break;
    case 'd':
      unit = 86'400'000;
      break;
    case 'w':
      unit = 7 * 86'400'000LL;
      break;
    default:
      return std::nullopt;
  }
  return now_ms - n * unit;
}

bool valid_type(std::string_view t) {
  if (t.empty() || t.size() > 64) return false;
  for (char c : t)
    if (!((c >= 'a' && c <= 'z') || c == '_' || c == '.' || (c >= '0' && c <= '9'))) return false;
  return true;
}

}  // namespace

std::optional<int64_t> parse_time(std::string_view text, int64_t now_ms) {
  std::string t = trim(text);
  if (t.empty()) return std::nullopt;
  if (auto r = parse_relative(t, now_ms)) return r;
  // A date alone: its midnight UTC.
  if (t.size() == 10 && t[4] == '-' && t[7] == '-') t += "T00:00:00Z";
  // "Z" may be written in lower case; RFC 3339 allows a space for the 'T' too.
  if (t.size() > 10 && (t[10] == 't' || t[10] == ' ')) t[10] = 'T';
  if (!t.empty() && t.back() == 'z') t.back() = 'Z';
  auto ns = policy::parse_rfc3339_ns(t);
  if (!ns) return std::nullopt;
  return *ns / 1'000'000;
}

Filter parse_filter(const std::map<std::string, std::string>& params, int64_t now_ms, int max_limit,
                    int default_limit) {
  Filter f;
  f.limit = default_limit;
  for (const auto& [key, raw] : params) {
    const std::string value = trim(raw);
    if (value.empty()) continue;
    if (key == "user") {
      if (value.size() > kMaxField) throw FilterError("user: at most 256 characters");
      f.actor = value;
    } else if (key == "resource") {
      if (value.size() > kMaxField) throw FilterError("resource: at most 256 characters");
      f.resource = value;
    } else if (key == "type") {
      std::string t = value;
      if (t.size() > 1 && t.back() == '*') {
        t.pop_back();  // "auth.*" -> prefix "auth.", "admin.spoke_*" -> "admin.spoke_"
        f.type_prefix = true;
      }
      if (!valid_type(t))
        throw FilterError(
            "type: an event type such as auth.login, or a family such as auth.* (a prefix and *)");
      f.type = t;
    } else if (key == "outcome") {
      if (!valid_outcome(value)) throw FilterError("outcome: one of allow, deny, success, failure");
      f.outcome = value;
    } else if (key == "since" || key == "until") {
      auto t = parse_time(value, now_ms);
      if (!t)
        throw FilterError(key +
                          ": an ISO 8601 time (2026-12-07T10:00:00Z, 2026-12-07) or a relative one (15m, "
                          "24h, 7d)");
      (key == "since" ? f.since_ms : f.until_ms) = *t;
    } else if (key == "limit") {
      auto v = parse_int(value);
      if (!v || *v < 1 || *v > max_limit)
        throw FilterError("limit: a whole number from 1 to " + std::to_string(max_limit));
      f.limit = static_cast<int>(*v);
    } else if (key == "cursor") {
      auto v = parse_int(value);
      if (!v || *v < 1) throw FilterError("cursor: the nextCursor of a previous page");
      f.before_seq = *v;
    } else {
      throw FilterError("unknown parameter '" + key.substr(0, 40) +
                        "' (known: user, resource, since, until, type, outcome, limit, cursor)");
    }
  }
  if (f.since_ms && f.until_ms && *f.since_ms >= *f.until_ms) throw FilterError("since must be before until");
  return f;
}

std::string format_time(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

}  // namespace dive::audit
