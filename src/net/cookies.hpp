#pragma once
// HTTP cookies (RFC 6265): reading one cookie of a Cookie header and writing a Set-Cookie value.
#include <optional>
#include <string>
#include <string_view>

namespace dive::net {

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or nothing.
std::optional<std::string> cookie_value(std::string_view header, std::string_view name);

enum class SameSite { Strict, Lax };

// A Set-Cookie value that is always Secure and HttpOnly. max_age_s < 0: a session cookie (no Max-Age);
// 0: deletes the cookie. `value` must be cookie-safe (base64url tokens are).
std::string set_cookie(std::string_view name, std::string_view value, std::string_view path,
                       SameSite same_site, long max_age_s = -1);

}  // namespace dive::net
