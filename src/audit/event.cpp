#include "audit/event.hpp"

namespace dive::audit {

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one.
size_t utf8_sequence(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  const auto c1 = static_cast<unsigned char>(s[i + 1]);
  if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
  if (c == 0xED && c1 >= 0xA0) return 0;  // surrogates
  if (c == 0xF0 && c1 < 0x90) return 0;   // overlong
  if (c == 0xF4 && c1 >= 0x90) return 0;  // beyond U+10FFFF
  return n;
}

// Valid UTF-8 without NUL, cut to `limit` bytes at a character boundary ("…" marks a cut).
void clean_text(std::string& s, size_t limit) {
  bool clean = true;
  for (size_t i = 0; i < s.size();) {
    size_t n = s[i] == '\0' ? 0 : utf8_sequence(s, i);
    if (n == 0) {
      clean = false;
      break;
    }
    i += n;
  }
  if (!clean) {
    std::string out;
    out.reserve(s.size() + 8);
    for (size_t i = 0; i < s.size();) {
      if (s[i] == '\0') {
        ++i;
        continue;
      }
      size_t n = utf8_sequence(s, i);
      if (n == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
      } else {
        out.append(s, i, n);
        i += n;
      }
    }
    s = std::move(out);
  }
  if (s.size() > limit) {
    size_t cut = limit - 3;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    s += "\xE2\x80\xA6";  // …
  }
}

bool base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Replaces every "eyJ<b64url>.<b64url>[.<b64url>]" (a JWS/JWT, or its first two parts) by "[redacted]".
void redact_jwts(std::string& s) {
  size_t from = 0;
  while (true) {
    size_t at = s.find("eyJ", from);
    if (at == std::string::npos) return;
    size_t end = at;
    int dots = 0;
    while (end < s.size() && (base64url_char(s[end]) || (s[end] == '.' && dots < 2))) {
      if (s[end] == '.') ++dots;
      ++end;
    }
    if (dots >= 1 && end - at >= 16) {
      s.replace(at, end - at, "[redacted]");
      from = at + 10;
    } else {
      from = at + 3;
    }
  }
}

}  // namespace

bool valid_outcome(std::string_view o) {
  return o == kAllow || o == kDeny || o == kSuccess || o == kFailure;
}

void sanitize(Event& e) {
  for (std::string* f : {&e.type, &e.actor, &e.actor_issuer, &e.source_ip, &e.service, &e.resource,
                         &e.request_id, &e.outcome}) {
    clean_text(*f, kMaxField);
    redact_jwts(*f);
  }
  if (!valid_outcome(e.outcome)) {
    e.reason = "(outcome '" + e.outcome + "') " + e.reason;
    e.outcome = kFailure;
  }
  clean_text(e.reason, kMaxReason);
  redact_jwts(e.reason);
  if (e.details.empty()) e.details = "{}";
  clean_text(e.details, kMaxDetails + 1);
  if (e.details.size() > kMaxDetails) {
    e.details = "{\"truncated\":true}";
  } else {
    redact_jwts(e.details);
    // Writers build details with details(): an object. A cheap check of the shape, not a parse per event.
    if (e.details.front() != '{' || e.details.back() != '}') e.details = "{\"invalid\":true}";
  }
}

std::string details(const Json& object) {
  try {
    return object.is_object() ? object.dump(-1, ' ', false, Json::error_handler_t::replace) : "{}";
  } catch (const std::exception&) {
    return "{}";
  }
}

NullRecorder& NullRecorder::instance() {
  static NullRecorder r;
  return r;
}

}  // namespace dive::audit
