// IdpConfig::from_instance: defaults, overrides, and the settings it refuses (a token lifetime that a
// logout would not cover, argon2 below OWASP's minimum, a missing secret).
#include "identity/idp/idp_config.hpp"

#include <gtest/gtest.h>

#include "common/encoding.hpp"

using namespace dive;
using namespace dive::identity::idp;

namespace {

Json instance() {
  return Json{{"code", "usa"},
              {"realm", "dive-v3-broker-usa"},
              {"issuer", "https://localhost:8443/realms/dive-v3-broker-usa"},
              {"urls", {{"idp", "https://localhost:8443"}, {"api", "https://localhost:4000"}}},
              {"role", "hub"}};
}

Json secrets() {
  return Json{{"idp_key_encryption_key", base64url_encode(std::string(32, 'k'))},
              {"test_user_password", "pw"},
              {"admin_password", "admin-pw"},
              {"clients", {{"dive-api", {{"secret", "a"}}}, {"dive-kas", {{"secret", "k"}}}}}};
}

std::string refusal(const Json& inst, const Json& sec = secrets()) {
  try {
    IdpConfig::from_instance(inst, sec);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(IdpConfig, DefaultsWithoutAnIdpSection) {
  IdpConfig c = IdpConfig::from_instance(instance(), secrets());
  EXPECT_EQ(c.code, "USA");
  EXPECT_TRUE(c.is_hub);
  EXPECT_EQ(c.access_token_ttl_s, 900);
  EXPECT_EQ(c.lockout_threshold, 5);
  EXPECT_EQ(c.lockout_minutes, 15);
  EXPECT_TRUE(c.argon2.meets_minimum());
  EXPECT_EQ(c.kek, std::string(32, 'k'));
  EXPECT_EQ(c.client_secrets.at("dive-kas"), "k");
}

TEST(IdpConfig, OverridesAreRead) {
  Json i = instance();
  i["idp"] = {{"lockout_threshold", 3}, {"lockout_minutes", 1}, {"access_token_ttl_s", 300}};
  IdpConfig c = IdpConfig::from_instance(i, secrets());
  EXPECT_EQ(c.lockout_threshold, 3);
  EXPECT_EQ(c.lockout_minutes, 1);
  EXPECT_EQ(c.access_token_ttl_s, 300);
  EXPECT_EQ(c.key_publish_window_s(), 360);
}

TEST(IdpConfig, ATokenLifetimeThatALogoutWouldNotCoverIsRefused) {
  Json i = instance();
  i["idp"] = {{"access_token_ttl_s", 3600}};
  // Default user_retention_s 1230: a user revocation would be forgotten while the token still lives.
  std::string why = refusal(i);
  EXPECT_NE(why.find("idp.access_token_ttl_s (3600 s)"), std::string::npos) << why;
  EXPECT_NE(why.find("revocation.user_retention_s"), std::string::npos) << why;
  i["revocation"] = {{"user_retention_s", 3629}};
  EXPECT_NE(refusal(i), "") << "3600 s + 30 s skew needs 3630 s";
  i["revocation"] = {{"user_retention_s", 3630}};
  EXPECT_EQ(refusal(i), "");
  i["idp"] = {{"access_token_ttl_s", 1200}};
  i["revocation"] = Json::object();
  EXPECT_EQ(refusal(i), "") << "1200 + 30 = the default 1230";
  i["revocation"] = {{"user_retention_s", "1230"}};
  EXPECT_NE(refusal(i).find("user_retention_s must be a positive integer"), std::string::npos);
}

TEST(IdpConfig, BadSettingsAreRefusedWithTheirName) {
  Json i = instance();
  i["idp"] = {{"lockout_threshold", 0}};
  EXPECT_NE(refusal(i).find("idp.lockout_threshold"), std::string::npos);
  i["idp"] = {{"argon2", {{"memory_kib", 4096}}}};
  EXPECT_NE(refusal(i).find("OWASP"), std::string::npos);
  Json s = secrets();
  s.erase("test_user_password");
  EXPECT_NE(refusal(instance(), s).find("test_user_password"), std::string::npos);
  s = secrets();
  s["idp_key_encryption_key"] = "c2hvcnQ";
  EXPECT_NE(refusal(instance(), s).find("32 bytes"), std::string::npos);
}
