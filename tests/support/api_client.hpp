#pragma once
// A test's view of a deployed instance as a user sees it: tokens from the instance's real idp (password
// grant of the public dive-cli client, optionally with the current TOTP code) and JSON calls to its api
// and kas over verified TLS.
#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/json.hpp"
#include "dive_cli.hpp"
#include "net/https_client.hpp"

namespace dive::testing {

struct ApiReply {
  int status = 0;
  Json body;  // parsed JSON (null when the body is not JSON)
};

class ApiClient {
 public:
  ApiClient(const DiveCli& cli, std::string code);

  // The current TOTP code of a user (`./dive hub users otp` / `spoke users otp`).
  std::string otp(const std::string& user) const;
  // An access token for a seeded user (the deployment's test-user password; admin-<ccc> uses
  // admin_password), kept and reused for 10 minutes: a TOTP code is accepted once per 30 s step (replay
  // protection), so logging in twice with it would fail and count towards the lockout. Fails the test
  // (ADD_FAILURE) and returns "" when the idp refuses.
  std::string token(const std::string& user, bool with_otp) const;
  // A fresh login, never one of the kept tokens (a test of logout needs new ones): the idp's whole token
  // response (access_token, refresh_token, id_token when scope has "openid"). Fails the test (ADD_FAILURE)
  // and returns null when the idp refuses.
  Json login(const std::string& user, bool with_otp = false, const std::string& scope = "") const;

  // A call to one of the instance's services ("api", "kas", ...).
  ApiReply call(const std::string& service, const std::string& method, const std::string& path,
                const std::string& token = "", const Json& body = Json()) const;

  // A form POST to the instance idp's OpenID Connect endpoint ("token", "logout", "token/introspect"...),
  // with an optional Authorization header.
  ApiReply oidc_post(const std::string& endpoint,
                     const std::vector<std::pair<std::string, std::string>>& form,
                     const std::string& authorization = "") const;

  const Json& secrets() const { return secrets_; }
  const Json& config() const { return config_; }

 private:
  ApiReply send(const net::ClientRequest& req) const;  // {status, parsed body}

  const DiveCli& cli_;
  std::string code_;
  Json config_, secrets_;
  mutable net::HttpsClient http_;
  struct Kept {
    std::string token;
    std::chrono::steady_clock::time_point at;
  };
  mutable std::map<std::pair<std::string, bool>, Kept> tokens_;
};

}  // namespace dive::testing
