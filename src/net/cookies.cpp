#include "net/cookies.hpp"

namespace dive::net {

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view pair = header.substr(pos, end - pos);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    while (!pair.empty() && pair.back() == ' ') pair.remove_suffix(1);
    if (auto eq = pair.find('='); eq != std::string_view::npos && pair.substr(0, eq) == name)
      return std::string(pair.substr(eq + 1));
    pos = end + 1;
  }
  return std::nullopt;
}

std::string set_cookie(std::string_view name, std::string_view value, std::string_view path,
                       SameSite same_site, long max_age_s) {
  std::string c;
  c.reserve(name.size() + value.size() + path.size() + 64);
  c.append(name).append("=").append(value).append("; Path=").append(path);
  if (max_age_s >= 0) c.append("; Max-Age=").append(std::to_string(max_age_s));
  c.append("; Secure; HttpOnly; SameSite=").append(same_site == SameSite::Strict ? "Strict" : "Lax");
  return c;
}

}  // namespace dive::net
