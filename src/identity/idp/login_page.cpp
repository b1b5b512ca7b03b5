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
// Every page in the console's look (the console's stylesheet, served by the idp at /assets/style.css under a
// CSP that allows only that): the product bar, the content, and the system-use notice classified systems
// show.
std::string page(const std::string& title, const std::string& body, const std::string& instance = "") {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title) +
         " · DIVE</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"/assets/style.css\"></head>\n"
         "<body>\n<header class=\"topbar\"><p class=\"brand\">DIVE</p><p class=\"instance\">" +
         (instance.empty() ? std::string("Identity provider")
                           : "Identity provider of " + html_escape(instance)) +
         "</p></header>\n<main id=\"main\">\n" + body +
         "</main>\n<footer class=\"notice\"><p>This system is for authorised coalition use only. Sign-in "
         "attempts and activity are logged and audited; misuse may lead to prosecution.</p></footer>\n"
         "</body></html>\n";
}
}  // namespace

std::string login_page(const std::string& instance, const std::string& action,
                       const std::vector<std::pair<std::string, std::string>>& hidden,
                       const std::string& username, const std::string& error) {
  std::string b =
      "<h1>Sign in</h1>\n<p class=\"muted\">with your account at " + html_escape(instance) + ".</p>\n";
  if (!error.empty()) b += "<p id=\"error\" class=\"error\" role=\"alert\">" + html_escape(error) + "</p>\n";
  b += "<form id=\"login\" method=\"post\" action=\"" + html_escape(action) + "\" class=\"upload\">\n";
  for (const auto& [k, v] : hidden)
    b += "<input type=\"hidden\" name=\"" + html_escape(k) + "\" value=\"" + html_escape(v) + "\">\n";
  b +=
      "<div class=\"field\"><label for=\"username\">Username</label><input id=\"username\" name=\"username\" "
      "autocomplete=\"username\" value=\"" +
      html_escape(username) + "\" required" + (username.empty() ? " autofocus" : "") +
      "></div>\n"
      "<div class=\"field\"><label for=\"password\">Password</label><input id=\"password\" name=\"password\" "
      "type=\"password\" autocomplete=\"current-password\" required" +
      (username.empty() ? "" : " autofocus") +
      "></div>\n"
      "<div class=\"field\"><label for=\"otp\">One-time code</label><input id=\"otp\" name=\"otp\" "
      "inputmode=\"numeric\" autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" "
      "aria-describedby=\"otp-hint\"><p class=\"hint\" id=\"otp-hint\">6 digits from your "
      "authenticator app. Classified documents need a sign-in with it.</p></div>\n"
      "<button type=\"submit\" class=\"primary\">Sign in</button>\n</form>\n";
  return page("Sign in", b, instance);
}

std::string message_page(const std::string& title, const std::string& message) {
  return page(title,
              "<h1>" + html_escape(title) + "</h1>\n<p role=\"alert\">" + html_escape(message) + "</p>\n");
}

std::string logout_confirm_page(const std::string& action,
                                const std::vector<std::pair<std::string, std::string>>& hidden) {
  std::string b =
      "<h1>Log out</h1>\n<p>Log out of every DIVE service?</p>\n<form id=\"logout\" method=\"post\" "
      "action=\"" +
      html_escape(action) + "\">\n";
  for (const auto& [k, v] : hidden)
    b += "<input type=\"hidden\" name=\"" + html_escape(k) + "\" value=\"" + html_escape(v) + "\">\n";
  b += "<button type=\"submit\" class=\"primary\">Log out</button>\n</form>\n";
  return page("Log out", b);
}

}  // namespace dive::identity::idp
