// Tokens as issued, checked by the validator the api and kas use (identity::TokenValidator).
#include <gtest/gtest.h>

#include "identity/idp/token_issuer.hpp"
#include "identity/jws.hpp"
#include "identity/token_validator.hpp"
#include "identity_test_util.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::idp;
using dive::identity::testing::kIssuer;
using dive::identity::testing::rsa_key;

namespace {
User alice() {
  User u;
  u.id = "6f1c3a52-1b7e-4d0e-9c1e-3f2b1a0d9e8f";
  u.username = "testuser-usa-4";
  u.attrs.unique_id = "testuser-usa-4";
  u.attrs.clearance = "SECRET";
  u.attrs.country = "USA";
  u.attrs.acp_coi = {"NATO"};
  u.attrs.duty_org = "United States Defense";
  u.attrs.org_unit = "J6";
  return u;
}

Json payload(const std::string& token) {
  return Json::parse(parse_compact(token).payload);
}

class IssuerTest : public ::testing::Test {
 protected:
  void SetUp() override { source.set(kIssuer, to_jwks(std::vector<VerifyKey>{rsa_key().public_key()})); }
  ValidationResult validate(const std::string& token, const std::string& typ = "Bearer") {
    ValidatorConfig c;
    c.allowed_issuers = {kIssuer};
    c.audience = "dive-kas";
    c.required_token_type = typ;
    TokenValidator v(c, source, clock);
    return v.validate(token);
  }
  FakeClock clock{SystemTime{std::chrono::milliseconds{1'700'000'000'123}}};
  identity::testing::FakeJwksSource source;
  int n = 0;
  TokenIssuer issuer{kIssuer, 900, clock, [this] { return "jti-" + std::to_string(++n); }};
};
}  // namespace

TEST_F(IssuerTest, PasswordOnlyAccessTokenHasEveryClaim) {
  AuthContext ctx;
  ctx.auth_time = 1'700'000'000;
  ctx.amr = {"pwd"};
  ctx.sid = "sess-1";
  IssuedToken t = issuer.user_access_token(alice(), "dive-cli", ctx, rsa_key());
  auto r = validate(t.token);
  ASSERT_TRUE(r.ok()) << r.message();
  Json c = payload(t.token);
  EXPECT_EQ(c["iss"], kIssuer);
  EXPECT_EQ(c["sub"], alice().id);
  EXPECT_EQ(c["aud"], Json({"dive-api", "dive-kas"}));
  EXPECT_EQ(c["azp"], "dive-cli");
  EXPECT_EQ(c["typ"], "Bearer");
  EXPECT_EQ(c["iat"], 1'700'000'000);
  EXPECT_EQ(c["iat_ms"], 1'700'000'000'123);
  EXPECT_EQ(c["exp"], 1'700'000'900);
  EXPECT_EQ(c["jti"], "jti-1");
  EXPECT_EQ(t.jti, "jti-1");
  EXPECT_EQ(c["auth_time"], 1'700'000'000);
  EXPECT_EQ(c["acr"], "0");
  EXPECT_EQ(c["amr"], Json({"pwd"}));
  EXPECT_EQ(c["sid"], "sess-1");
  EXPECT_EQ(c["uniqueID"], "testuser-usa-4");
  EXPECT_EQ(c["clearance"], "SECRET");
  EXPECT_EQ(c["countryOfAffiliation"], "USA");
  EXPECT_EQ(c["acpCOI"], Json({"NATO"}));
  EXPECT_EQ(c["organizationType"], "GOV");
  EXPECT_EQ(c["dutyOrg"], "United States Defense");
  EXPECT_EQ(c["orgUnit"], "J6");
  EXPECT_EQ(c["roles"], Json({"user"}));
  EXPECT_EQ(c["preferred_username"], "testuser-usa-4");
  EXPECT_EQ(parse_compact(t.token).header["kid"], rsa_key().kid());
  EXPECT_EQ(parse_compact(t.token).header["alg"], "RS256");
}

TEST_F(IssuerTest, OneTimeCodeGivesAcr1) {
  AuthContext ctx;
  ctx.amr = {"pwd", "otp"};
  Json c = payload(issuer.user_access_token(alice(), "dive-cli", ctx, rsa_key()).token);
  EXPECT_EQ(c["acr"], "1");
  EXPECT_EQ(c["amr"], Json({"pwd", "otp"}));
  EXPECT_EQ(acr_for({"pwd"}), "0");
}

TEST_F(IssuerTest, JtisAreUniquePerToken) {
  AuthContext ctx;
  ctx.amr = {"pwd"};
  TokenIssuer real(kIssuer, 900, clock);
  auto a = real.user_access_token(alice(), "dive-cli", ctx, rsa_key());
  auto b = real.user_access_token(alice(), "dive-cli", ctx, rsa_key());
  EXPECT_NE(a.jti, b.jti);
  EXPECT_GE(a.jti.size(), 20u);
}

TEST_F(IssuerTest, IdTokenIsForTheClientAndCannotBeUsedAsAccessToken) {
  AuthContext ctx;
  ctx.amr = {"pwd"};
  ctx.nonce = "n-0S6_WzA2Mj";
  auto access = issuer.user_access_token(alice(), "dive-web", ctx, rsa_key());
  auto id = issuer.id_token(alice(), "dive-web", ctx, access.token, rsa_key());
  Json c = payload(id.token);
  EXPECT_EQ(c["aud"], "dive-web");
  EXPECT_EQ(c["typ"], "ID");
  EXPECT_EQ(c["nonce"], "n-0S6_WzA2Mj");
  EXPECT_EQ(c["at_hash"], at_hash(access.token));
  EXPECT_FALSE(validate(id.token).ok()) << "an ID token is not an access token for the kas";
}

TEST_F(IssuerTest, ServiceAccountTokenHasNoUserAttributes) {
  auto t = issuer.service_access_token("dive-api", "profile email", rsa_key());
  ASSERT_TRUE(validate(t.token).ok());
  Json c = payload(t.token);
  EXPECT_EQ(c["sub"], "service-account-dive-api");
  EXPECT_EQ(c["azp"], "dive-api");
  EXPECT_FALSE(c.contains("clearance"));
  EXPECT_FALSE(c.contains("acr"));
}

TEST_F(IssuerTest, ExpiredTokensAreRejectedByTheValidator) {
  AuthContext ctx;
  ctx.amr = {"pwd"};
  auto t = issuer.user_access_token(alice(), "dive-cli", ctx, rsa_key());
  clock.advance(std::chrono::seconds(900 + 31));
  auto r = validate(t.token);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.reason(), RejectReason::Expired);
}
