#pragma once
// A hub deployed for real (test profile) in a private $DIVE_HOME, and helpers to talk OAuth to its idp.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/encoding.hpp"
#include "dive_cli.hpp"
#include "identity/idp/form.hpp"
#include "identity/jwks_source.hpp"
#include "identity/token_validator.hpp"
#include "net/https_client.hpp"
#include "resilience/circuit_breaker.hpp"

namespace dive::testing {

class IdpTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();  // deploys the hub on first use

 public:
  static void shutdown();  // once, when the binary ends: nukes the hub

 protected:
  static DiveCli& cli() { return *cli_; }
  static Json secrets();
  static std::string issuer();
  static std::string oidc(const std::string& endpoint);  // issuer + "/protocol/openid-connect/" + endpoint
  static std::string test_password() { return secrets()["test_user_password"]; }
  static std::string client_secret(const std::string& id) { return secrets()["clients"][id]["secret"]; }
  static std::string basic(const std::string& id, const std::string& secret) {
    return "Basic " + base64_encode(id + ":" + secret);
  }

  // POST a form (pairs are url-encoded here) to an endpoint; optional Authorization and Cookie headers.
  static net::ClientResponse post(const std::string& endpoint,
                                  const std::vector<std::pair<std::string, std::string>>& form,
                                  const std::string& authorization = "", const std::string& cookie = "");
  static net::ClientResponse get(const std::string& url, const std::string& authorization = "");
  static net::ClientResponse password_grant(const std::string& user, const std::string& password,
                                            const std::string& totp = "");
  static std::string otp(const std::string& user);  // via `./dive hub users otp`
  // The validator the api and kas use, trusting this hub's issuer, audience dive-api, typ Bearer.
  static identity::ValidationResult validate(const std::string& token);
  static Json claims_of(const std::string& token);  // payload, unverified (for assertions)

 private:
  static std::unique_ptr<DiveCli> cli_;
  static std::unique_ptr<net::HttpsClient> http_;
  static std::unique_ptr<resilience::CircuitBreaker> breaker_;
  static std::unique_ptr<identity::HttpJwksSource> jwks_;
  static std::unique_ptr<identity::TokenValidator> validator_;
};

std::string form_body(const std::vector<std::pair<std::string, std::string>>& form);

}  // namespace dive::testing
