#pragma once
// Login CSRF protection for the HTML sign-in form (a double-submit token): the form page sets a random
// token both in a cookie (Secure, HttpOnly, SameSite=Strict, scoped to the form's path) and in a hidden
// field; a submission is accepted only when the two match. Another site can make a browser POST
// credentials to the form, but it can neither read nor set the cookie, so it cannot sign a victim in to
// an account of its choosing (login CSRF). The token is no secret of the user's: it guards one form.
//
//   GET:  t = new_login_token(); Set-Cookie: login_cookie(t, path); hidden field {kLoginField, t}
//   POST: if (!login_token_matches(req Cookie header, form[kLoginField])) -> 400
#include <optional>
#include <string>
#include <string_view>

namespace dive::identity::idp {

inline constexpr std::string_view kLoginCookie = "DIVE_LOGIN";
inline constexpr std::string_view kLoginField = "login_token";
inline constexpr int kLoginTokenSeconds = 900;  // how long a sign-in form can be left open

std::string new_login_token();
// The Set-Cookie value carrying `token` for the form at `path`.
std::string login_cookie(const std::string& token, const std::string& path);
// True when the Cookie header's login cookie is present, well formed and equal to the submitted field.
bool login_token_matches(const std::optional<std::string>& cookie_header, std::string_view field);

}  // namespace dive::identity::idp
