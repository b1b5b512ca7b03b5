#include "idp_fixture.hpp"

#include "common/fs.hpp"
#include "identity/jws.hpp"

namespace dive::testing {

std::unique_ptr<DiveCli> IdpTest::cli_;
std::unique_ptr<net::HttpsClient> IdpTest::http_;
std::unique_ptr<resilience::CircuitBreaker> IdpTest::breaker_;
std::unique_ptr<identity::HttpJwksSource> IdpTest::jwks_;
std::unique_ptr<identity::TokenValidator> IdpTest::validator_;

namespace {
// The hub is deployed once for every suite of this binary and nuked when the binary ends.
class IdpEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { IdpTest::shutdown(); }
};
[[maybe_unused]] auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new IdpEnvironment);
}  // namespace

void IdpTest::SetUpTestSuite() {
  if (cli_) return;
  cli_ = std::make_unique<DiveCli>(std::vector<std::string>{"USA"});
  auto r = cli_->run({"hub", "deploy", "--profile", "test"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  net::ClientConfig cc;
  cc.ca_file = cli_->ca_file().string();
  http_ = std::make_unique<net::HttpsClient>(cc);
  breaker_ = std::make_unique<resilience::CircuitBreaker>("idp", resilience::BreakerConfig{});
  jwks_ = std::make_unique<identity::HttpJwksSource>(*http_, *breaker_);
  identity::ValidatorConfig vc;
  vc.allowed_issuers = {issuer()};
  vc.audience = "dive-api";
  vc.required_token_type = "Bearer";
  vc.extra_required_claims = {"jti"};
  vc.jwks_min_refresh_interval = Millis(0);
  validator_ = std::make_unique<identity::TokenValidator>(vc, *jwks_);
}

void IdpTest::shutdown() {
  validator_.reset();
  jwks_.reset();
  breaker_.reset();
  http_.reset();
  cli_.reset();
}

Json IdpTest::secrets() {
  return Json::parse(read_file(cli_->home() / "instances" / "usa" / "secrets.json"));
}

std::string IdpTest::issuer() {
  return cli_->instance_config("USA")["issuer"];
}

std::string IdpTest::oidc(const std::string& endpoint) {
  return issuer() + "/protocol/openid-connect/" + endpoint;
}

std::string form_body(const std::vector<std::pair<std::string, std::string>>& form) {
  std::string b;
  for (const auto& [k, v] : form)
    b += (b.empty() ? "" : "&") + identity::idp::url_encode(k) + "=" + identity::idp::url_encode(v);
  return b;
}

net::ClientResponse IdpTest::post(const std::string& endpoint,
                                  const std::vector<std::pair<std::string, std::string>>& form,
                                  const std::string& authorization, const std::string& cookie) {
  net::ClientRequest r;
  r.method = "POST";
  if (!cookie.empty()) r.headers.set("Cookie", cookie);
  r.url = endpoint.rfind("https://", 0) == 0 ? endpoint : oidc(endpoint);
  r.headers.set("Content-Type", "application/x-www-form-urlencoded");
  if (!authorization.empty()) r.headers.set("Authorization", authorization);
  r.body = form_body(form);
  r.timeout = Millis(15000);
  return http_->send(r);
}

net::ClientResponse IdpTest::get(const std::string& url, const std::string& authorization) {
  net::ClientRequest r;
  r.url = url;
  if (!authorization.empty()) r.headers.set("Authorization", authorization);
  r.timeout = Millis(15000);
  return http_->send(r);
}

net::ClientResponse IdpTest::password_grant(const std::string& user, const std::string& password,
                                            const std::string& totp) {
  std::vector<std::pair<std::string, std::string>> f{{"grant_type", "password"},
                                                     {"client_id", "dive-cli"},
                                                     {"username", user},
                                                     {"password", password},
                                                     {"scope", "openid profile email"}};
  if (!totp.empty()) f.emplace_back("totp", totp);
  return post("token", f);
}

std::string IdpTest::otp(const std::string& user) {
  auto r = cli_->run({"hub", "users", "otp", user});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::string code;
  for (char c : r.output)
    if (c >= '0' && c <= '9') code += c;
  EXPECT_EQ(code.size(), 6u) << r.output;
  return code;
}

identity::ValidationResult IdpTest::validate(const std::string& token) {
  return validator_->validate(token);
}

Json IdpTest::claims_of(const std::string& token) {
  return Json::parse(identity::parse_compact(token).payload);
}

}  // namespace dive::testing
