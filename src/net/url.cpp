#include "net/url.hpp"

#include <charconv>

#include "common/strings.hpp"

namespace dive::net {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string percent_decode(std::string_view s, bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_as_space && c == '+' ? ' ' : c);  // a malformed escape is kept as is
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view part = query.substr(start, amp - start);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string key = percent_decode(part.substr(0, eq), true);
      std::string value =
          eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1), true);
      if (!key.empty()) out.insert_or_assign(std::move(key), std::move(value));
    }
    start = amp + 1;
  }
  return out;
}

namespace {
[[noreturn]] void bad(std::string_view url, const std::string& why) {
  // The URL may carry a query with secrets: only its start is echoed.
  std::string shown(url.substr(0, std::min<size_t>(url.size(), 80)));
  throw TransportError(TransportError::Kind::BadUrl, "bad URL '" + shown + "': " + why);
}
}  // namespace

Url parse_url(std::string_view url) {
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      bad(url, "contains whitespace or control characters");
  Url u;
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) bad(url, "missing scheme");
  u.scheme = to_lower(url.substr(0, sep));
  if (u.scheme != "http" && u.scheme != "https") bad(url, "scheme must be http or https");
  std::string_view rest = url.substr(sep + 3);
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (size_t hash = target.find('#'); hash != std::string_view::npos) target = target.substr(0, hash);
  if (authority.find('@') != std::string_view::npos) bad(url, "user information is not supported");
  if (authority.empty()) bad(url, "missing host");
  std::string_view host, port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) bad(url, "unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') bad(url, "junk after IPv6 address");
      port = after.substr(1);
    }
  } else {
    size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (host.empty()) bad(url, "missing host");
  u.host = to_lower(host);
  u.port = u.scheme == "https" ? 443 : 80;
  if (!port.empty()) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc() || p != port.data() + port.size() || v == 0 || v > 65535) bad(url, "bad port");
    u.port = static_cast<uint16_t>(v);
  }
  // Built by appending: g++ 12 -O3 reports a false -Wrestrict on `"/" + std::string(...)`.
  if (target.empty() || target.front() == '?') u.target.push_back('/');
  u.target.append(target);
  return u;
}

}  // namespace dive::net
