#pragma once
// The plain HTML pages of the authorization endpoint: the login form (username, password, one-time code,
// with the authorization request carried in hidden fields) and a message page. Every value is escaped.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dive::identity::idp {

std::string html_escape(std::string_view s);

std::string login_page(const std::string& realm, const std::string& action,
                       const std::vector<std::pair<std::string, std::string>>& hidden,
                       const std::string& username, const std::string& error);
std::string message_page(const std::string& title, const std::string& message);
// The page a GET of the logout endpoint shows: nothing is ended until its button POSTs the hidden fields.
std::string logout_confirm_page(const std::string& action,
                                const std::vector<std::pair<std::string, std::string>>& hidden);

}  // namespace dive::identity::idp
