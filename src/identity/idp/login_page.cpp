#include "identity/idp/login_page.hpp"

namespace dive::identity::idp {

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {
std::string page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
         "</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head>\n<body>\n" +
         body + "</body></html>\n";
}
}  // namespace

std::string login_page(const std::string& realm, const std::string& action,
                       const std::vector<std::pair<std::string, std::string>>& hidden,
                       const std::string& username, const std::string& error) {
  std::string b = "<h1>Sign in to " + html_escape(realm) + "</h1>\n";
  if (!error.empty()) b += "<p id=\"error\" role=\"alert\">" + html_escape(error) + "</p>\n";
  b += "<form id=\"login\" method=\"post\" action=\"" + html_escape(action) + "\">\n";
  for (const auto& [k, v] : hidden)
    b += "<input type=\"hidden\" name=\"" + html_escape(k) + "\" value=\"" + html_escape(v) + "\">\n";
  b += "<label>Username <input name=\"username\" autocomplete=\"username\" value=\"" + html_escape(username) +
       "\" required></label><br>\n"
       "<label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" "
       "required></label><br>\n"
       "<label>One-time code <input name=\"otp\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
       "pattern=\"[0-9]{6}\"></label><br>\n"
       "<button type=\"submit\">Sign in</button>\n</form>\n";
  return page("Sign in", b);
}

std::string message_page(const std::string& title, const std::string& message) {
  return page(title, "<h1>" + html_escape(title) + "</h1>\n<p>" + html_escape(message) + "</p>\n");
}

std::string logout_confirm_page(const std::string& action,
                                const std::vector<std::pair<std::string, std::string>>& hidden) {
  std::string b =
      "<h1>Log out</h1>\n<p>Log out of every DIVE service?</p>\n<form id=\"logout\" method=\"post\" "
      "action=\"" +
      html_escape(action) + "\">\n";
  for (const auto& [k, v] : hidden)
    b += "<input type=\"hidden\" name=\"" + html_escape(k) + "\" value=\"" + html_escape(v) + "\">\n";
  b += "<button type=\"submit\">Log out</button>\n</form>\n";
  return page("Log out", b);
}

}  // namespace dive::identity::idp
