#include "identity/idp/login_guard.hpp"

#include "common/encoding.hpp"
#include "common/random.hpp"
#include "net/cookies.hpp"

namespace dive::identity::idp {

namespace {
constexpr size_t kTokenBytes = 24;  // 32 base64url characters
}

std::string new_login_token() {
  return secure_token(kTokenBytes);
}

std::string login_cookie(const std::string& token, const std::string& path) {
  return net::set_cookie(kLoginCookie, token, path, net::SameSite::Strict, kLoginTokenSeconds);
}

bool login_token_matches(const std::optional<std::string>& cookie_header, std::string_view field) {
  if (!cookie_header || field.size() < 16 || field.size() > 128) return false;
  auto cookie = net::cookie_value(*cookie_header, kLoginCookie);
  return cookie && constant_time_equal(*cookie, field);
}

}  // namespace dive::identity::idp
