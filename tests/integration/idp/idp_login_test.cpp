// Discovery, password logins with and without a one-time code, wrong passwords, lockout and errors.
#include "idp_fixture.hpp"

using namespace dive;
using namespace dive::testing;

TEST_F(IdpTest, DiscoveryRealmInfoAndCertsFollowKeycloaksLayout) {
  auto d = get(issuer() + "/.well-known/openid-configuration");
  ASSERT_EQ(d.status, 200) << d.body;
  Json meta = d.json();
  EXPECT_EQ(meta["issuer"], issuer());
  EXPECT_EQ(meta["token_endpoint"], oidc("token"));
  EXPECT_EQ(meta["introspection_endpoint"], oidc("token/introspect"));
  auto certs = get(meta["jwks_uri"]);
  ASSERT_EQ(certs.status, 200);
  ASSERT_FALSE(certs.json()["keys"].empty());
  EXPECT_EQ(certs.json()["keys"][0]["alg"], "RS256");
  auto realm = get(issuer());
  ASSERT_EQ(realm.status, 200);
  EXPECT_EQ(realm.json()["realm"], "dive-v3-broker-usa");
  EXPECT_FALSE(realm.json()["public_key"].get<std::string>().empty());
  EXPECT_EQ(get(issuer() + "x/.well-known/openid-configuration").status, 404) << "another realm";
}

TEST_F(IdpTest, PasswordOnlyLoginGivesAcr0AndAValidatedToken) {
  auto r = password_grant("testuser-usa-1", test_password());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.get("Cache-Control").value_or(""), "no-store");
  Json body = r.json();
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 900);
  EXPECT_TRUE(body["refresh_token"].is_string());
  EXPECT_TRUE(body["id_token"].is_string());
  auto v = validate(body["access_token"]);
  ASSERT_TRUE(v.ok()) << v.message();
  const Json& c = v.token().claims;
  EXPECT_EQ(c["acr"], "0");
  EXPECT_EQ(c["amr"], Json({"pwd"}));
  EXPECT_EQ(c["uniqueID"], "testuser-usa-1");
  EXPECT_EQ(c["preferred_username"], "testuser-usa-1");
  EXPECT_EQ(c["clearance"], "UNCLASSIFIED");
  EXPECT_EQ(c["countryOfAffiliation"], "USA");
  EXPECT_EQ(c["azp"], "dive-cli");
  EXPECT_EQ(c["aud"], Json({"dive-api", "dive-kas"}));
  EXPECT_TRUE(c["iat_ms"].is_number_integer());
  EXPECT_EQ(c["iat_ms"].get<int64_t>() / 1000, c["iat"].get<int64_t>());
  EXPECT_EQ(c["exp"].get<int64_t>() - c["iat"].get<int64_t>(), 900);
  for (const char* k : {"jti", "auth_time", "organizationType", "dutyOrg", "orgUnit", "roles", "acpCOI"})
    EXPECT_TRUE(c.contains(k)) << k;
}

TEST_F(IdpTest, OneTimeCodeGivesAcr1AndCannotBeReplayed) {
  std::string code = otp("testuser-usa-3");
  auto r = password_grant("testuser-usa-3", test_password(), code);
  ASSERT_EQ(r.status, 200) << r.body;
  auto v = validate(r.json()["access_token"]);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v.token().acr, "1");
  EXPECT_EQ(v.token().amr, (std::vector<std::string>{"pwd", "otp"}));
  EXPECT_EQ(v.token().claims["clearance"], "CONFIDENTIAL");
  auto again = password_grant("testuser-usa-3", test_password(), code);
  EXPECT_EQ(again.status, 400) << again.body;
  EXPECT_EQ(again.json()["error"], "invalid_grant");
  auto wrong = password_grant("testuser-usa-3", test_password(), code == "000000" ? "111111" : "000000");
  EXPECT_EQ(wrong.status, 400);
}

TEST_F(IdpTest, WrongPasswordIsInvalidGrant) {
  auto r = password_grant("contractor.bah", test_password() + "x");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.json()["error"], "invalid_grant");
  EXPECT_EQ(r.json()["error_description"], "Invalid user credentials");
  EXPECT_EQ(password_grant("contractor.bah", test_password()).status, 200);
}

TEST_F(IdpTest, FiveFailuresLockTheAccountAndTheAnswerLooksLikeAnUnknownUser) {
  for (int i = 0; i < 5; ++i) {
    auto r = password_grant("testuser-usa-2", "wrong-" + std::to_string(i));
    ASSERT_EQ(r.status, 400) << r.body;
  }
  auto locked = password_grant("testuser-usa-2", test_password());
  auto unknown = password_grant("nobody-here", test_password());
  EXPECT_EQ(locked.status, 400);
  EXPECT_EQ(locked.status, unknown.status);
  EXPECT_EQ(locked.body, unknown.body) << "a locked account must not be told apart from an unknown user";
  Json users = cli().run_json({"hub", "users", "--json"});
  bool seen = false;
  for (const auto& u : users)
    if (u["username"] == "testuser-usa-2") {
      seen = true;
      EXPECT_TRUE(u["locked"].get<bool>()) << u.dump();
    }
  EXPECT_TRUE(seen);
  auto m = get("https://localhost:" + std::to_string(cli().port("USA", "idp")) + "/metrics");
  EXPECT_NE(m.body.find("dive_v3_idp_lockouts_total 1"), std::string::npos);
  EXPECT_NE(m.body.find("dive_v3_idp_login_failures_total"), std::string::npos);
}

TEST_F(IdpTest, MalformedTokenRequestsGetOAuthErrors) {
  auto no_grant = post("token", {{"client_id", "dive-cli"}});
  EXPECT_EQ(no_grant.status, 400);
  EXPECT_EQ(no_grant.json()["error"], "invalid_request");
  auto bad_grant = post("token", {{"grant_type", "implicit"}, {"client_id", "dive-cli"}});
  EXPECT_EQ(bad_grant.json()["error"], "unsupported_grant_type");
  auto twice =
      post("token", {{"grant_type", "password"}, {"grant_type", "password"}, {"client_id", "dive-cli"}});
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(twice.json()["error"], "invalid_request");
  auto not_allowed = post("token", {{"grant_type", "client_credentials"}, {"client_id", "dive-cli"}});
  EXPECT_EQ(not_allowed.json()["error"], "unauthorized_client");
  net::ClientRequest json_body;
  json_body.method = "POST";
  json_body.url = oidc("token");
  json_body.headers.set("Content-Type", "application/json");
  json_body.body = R"({"grant_type":"password"})";
  EXPECT_EQ(net::HttpsClient(net::ClientConfig{.ca_file = cli().ca_file().string()}).send(json_body).status,
            400);
}
