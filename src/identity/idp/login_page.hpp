#pragma once
// The HTML pages of the authorization endpoint: the login form (username, password, one-time code, with the
// authorization request carried in hidden fields), a message page and the logout confirmation — in the web
// console's look (its stylesheet, /assets/style.css, served by the idp too; no script, no inline style).
// Every value is escaped.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dive::identity::idp {

std::string html_escape(std::string_view s);

// `instance`: whose identity provider this is, e.g. "France (FRA)".
std::string login_page(const std::string& instance, const std::string& action,
                       const std::vector<std::pair<std::string, std::string>>& hidden,
                       const std::string& username, const std::string& error);
std::string message_page(const std::string& title, const std::string& message);
// The page a GET of the logout endpoint shows: nothing is ended until its button POSTs the hidden fields.
std::string logout_confirm_page(const std::string& action,
                                const std::vector<std::pair<std::string, std::string>>& hidden);

}  // namespace dive::identity::idp
