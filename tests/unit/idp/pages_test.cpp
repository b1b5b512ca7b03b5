// The login page, the realm metadata and the check of our own tokens.
#include <gtest/gtest.h>

#include <regex>

#include "identity/idp/idp_config.hpp"
#include "identity/idp/key_ring.hpp"
#include "identity/idp/login_page.hpp"
#include "identity/idp/oidc_metadata.hpp"
#include "identity/idp/own_token.hpp"
#include "identity/jws.hpp"
#include "identity_test_util.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::idp;
using dive::identity::testing::attacker_key;
using dive::identity::testing::rsa_key;

TEST(LoginPage, EveryValueIsEscaped) {
  std::string page = login_page("United States (USA)", "/auth", {{"state", "\"><script>alert(1)</script>"}},
                                "<b>bob</b>", "bad & wrong");
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("&quot;&gt;&lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.find("&lt;b&gt;bob&lt;/b&gt;"), std::string::npos);
  EXPECT_NE(page.find("bad &amp; wrong"), std::string::npos);
  for (const char* field : {"name=\"username\"", "name=\"password\"", "name=\"otp\""})
    EXPECT_NE(page.find(field), std::string::npos) << field;
}

TEST(LoginPage, WearsTheConsolesLookWithoutScriptOrInlineStyle) {
  std::string page = login_page("France (FRA)", "/auth", {}, "", "Invalid user credentials");
  EXPECT_NE(page.find("<link rel=\"stylesheet\" href=\"/assets/style.css\">"), std::string::npos);
  EXPECT_NE(page.find("France (FRA)"), std::string::npos);
  EXPECT_NE(page.find("authorised coalition use only"), std::string::npos);
  EXPECT_NE(page.find("role=\"alert\">Invalid user credentials"), std::string::npos);
  for (const char* label :
       {">Username</label>", ">Password</label>", ">One-time code</label>", ">Sign in</button>"})
    EXPECT_NE(page.find(label), std::string::npos) << label;
  for (const std::string& p :
       {page, message_page("Sign-in error", "x"), logout_confirm_page("/logout", {})}) {
    EXPECT_EQ(p.find("<script"), std::string::npos);
    EXPECT_EQ(p.find(" style="), std::string::npos);
    EXPECT_FALSE(std::regex_search(p, std::regex(R"( on[a-z]+=)"))) << "an inline event handler";
  }
}

TEST(Metadata, DiscoveryNamesEveryEndpointUnderTheIssuer) {
  IdpConfig c;
  c.realm = "dive-v3-broker-usa";
  c.issuer = "https://localhost:8443/realms/dive-v3-broker-usa";
  Json d = openid_configuration(c);
  EXPECT_EQ(d["issuer"], c.issuer);
  for (const char* k : {"authorization_endpoint", "token_endpoint", "introspection_endpoint",
                        "userinfo_endpoint", "end_session_endpoint", "revocation_endpoint", "jwks_uri"})
    EXPECT_EQ(d[k].get<std::string>().rfind(c.issuer + "/protocol/openid-connect/", 0), 0u) << k;
  EXPECT_EQ(d["code_challenge_methods_supported"], Json({"S256"}));
  Json info = realm_info(c, rsa_key().public_key());
  EXPECT_EQ(info["realm"], c.realm);
  EXPECT_EQ(VerifyKey::from_pem("-----BEGIN PUBLIC KEY-----\n" + info["public_key"].get<std::string>() +
                                "\n-----END PUBLIC KEY-----\n")
                .thumbprint(),
            rsa_key().public_key().thumbprint());
}

TEST(OwnToken, OnlyOurSignatureAndIssuerPass) {
  KeyRing ring;
  KeySet set;
  set.active = rsa_key();
  set.published = {rsa_key().public_key()};
  set.version = "1";
  ring.install(set);
  const std::string iss = "https://localhost:8443/realms/dive-v3-broker-usa";
  Json claims{{"iss", iss}, {"sub", "s"}, {"exp", 2000}, {"jti", "j"}};
  EXPECT_TRUE(verify_own_token(sign_claims(claims, rsa_key()), ring, iss, 1000, false));
  EXPECT_FALSE(verify_own_token(sign_claims(claims, rsa_key()), ring, iss, 2000, false)) << "expired";
  EXPECT_TRUE(verify_own_token(sign_claims(claims, rsa_key()), ring, iss, 2000, true)) << "expired allowed";
  EXPECT_FALSE(verify_own_token(sign_claims(claims, attacker_key().with_kid(rsa_key().kid())), ring, iss,
                                1000, false));
  Json other = claims;
  other["iss"] = "https://evil/realms/x";
  EXPECT_FALSE(verify_own_token(sign_claims(other, rsa_key()), ring, iss, 1000, false));
  EXPECT_FALSE(verify_own_token("not.a.token", ring, iss, 1000, false));
}
