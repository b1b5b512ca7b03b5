#include "identity/idp/login_guard.hpp"

#include "common/encoding.hpp"
#include "common/random.hpp"

namespace dive::identity::idp {

namespace {
constexpr size_t kTokenBytes = 24;  // 32 base64url characters
}

std::string new_login_token() {
  return secure_token(kTokenBytes);
}

std::string login_cookie(const std::string& token, const std::string& path) {
  return std::string(kLoginCookie) + "=" + token + "; Path=" + path +
         "; Max-Age=" + std::to_string(kLoginTokenSeconds) + "; Secure; HttpOnly; SameSite=Strict";
}

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

bool login_token_matches(const std::optional<std::string>& cookie_header, std::string_view field) {
  if (!cookie_header || field.size() < 16 || field.size() > 128) return false;
  auto cookie = cookie_value(*cookie_header, kLoginCookie);
  return cookie && constant_time_equal(*cookie, field);
}

}  // namespace dive::identity::idp
