#include "api_client.hpp"

#include <gtest/gtest.h>

#include "common/strings.hpp"
#include "orchestrator/instance_config.hpp"

namespace dive::testing {

namespace {
net::ClientConfig verified(const DiveCli& cli) {
  net::ClientConfig cc;
  cc.ca_file = cli.ca_file().string();
  return cc;
}
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& kv) {
  std::string out;
  for (const auto& [k, v] : kv) {
    if (!out.empty()) out += '&';
    out += k + "=";
    for (unsigned char c : v) {
      if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
        out += static_cast<char>(c);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
  }
  return out;
}
}  // namespace

ApiClient::ApiClient(const DiveCli& cli, std::string code)
    : cli_(cli), code_(std::move(code)), http_(verified(cli)) {
  auto paths = orch::Layout{cli.home()}.instance(code_);
  config_ = orch::read_instance_config(paths);
  secrets_ = orch::read_secrets(paths);
}

std::string ApiClient::otp(const std::string& user) const {
  auto r = code_ == "USA" ? cli_.run({"hub", "users", "otp", user})
                          : cli_.run({"spoke", "users", "otp", code_, user});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return std::string(trim(r.output));
}

std::string ApiClient::token(const std::string& user, bool with_otp) const {
  auto now = std::chrono::steady_clock::now();
  if (auto it = tokens_.find({user, with_otp});
      it != tokens_.end() && now - it->second.at < std::chrono::minutes(10))
    return it->second.token;
  Json resp = login(user, with_otp);
  if (resp.is_null()) return "";
  std::string t = resp.value("access_token", "");
  tokens_[{user, with_otp}] = Kept{t, now};
  return t;
}

Json ApiClient::login(const std::string& user, bool with_otp, const std::string& scope) const {
  std::string password = user.rfind("admin-", 0) == 0 ? secrets_.value("admin_password", "")
                                                      : secrets_.value("test_user_password", "");
  std::vector<std::pair<std::string, std::string>> form{
      {"grant_type", "password"}, {"client_id", "dive-cli"}, {"username", user}, {"password", password}};
  if (with_otp) form.emplace_back("totp", otp(user));
  if (!scope.empty()) form.emplace_back("scope", scope);
  net::ClientRequest req;
  req.method = "POST";
  req.url = config_.value("issuer", "") + "/protocol/openid-connect/token";
  req.headers.set("Content-Type", "application/x-www-form-urlencoded");
  req.body = form_encode(form);
  auto resp = http_.send(req);
  if (resp.status != 200) {
    ADD_FAILURE() << "token for " << user << ": HTTP " << resp.status << " " << resp.body;
    return nullptr;
  }
  return resp.json();
}

ApiReply ApiClient::call(const std::string& service, const std::string& method, const std::string& path,
                         const std::string& token, const Json& body) const {
  net::ClientRequest req;
  req.method = method;
  req.url = config_["urls"].value(service, "") + path;
  req.timeout = std::chrono::milliseconds(10000);
  if (!token.empty()) req.headers.set("Authorization", "Bearer " + token);
  if (!body.is_null()) {
    req.headers.set("Content-Type", "application/json");
    req.body = body.dump();
  }
  return send(req);
}

ApiReply ApiClient::send(const net::ClientRequest& req) const {
  auto resp = http_.send(req);
  ApiReply r;
  r.status = resp.status;
  try {
    r.body = Json::parse(resp.body);
  } catch (const std::exception&) {
  }
  return r;
}

ApiReply ApiClient::oidc_post(const std::string& endpoint,
                              const std::vector<std::pair<std::string, std::string>>& form,
                              const std::string& authorization) const {
  net::ClientRequest req;
  req.method = "POST";
  req.url = config_.value("issuer", "") + "/protocol/openid-connect/" + endpoint;
  req.timeout = std::chrono::milliseconds(10000);
  req.headers.set("Content-Type", "application/x-www-form-urlencoded");
  if (!authorization.empty()) req.headers.set("Authorization", authorization);
  req.body = form_encode(form);
  return send(req);
}

}  // namespace dive::testing
