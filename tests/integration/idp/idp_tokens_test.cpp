// Refresh rotation and reuse detection, client credentials, introspection, revocation, userinfo, logout.
#include <ctime>
#include <thread>

#include "common/fs.hpp"
#include "idp_fixture.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

class TokensTest : public IdpTest {
 protected:
  static net::ClientResponse refresh(const std::string& rt, const std::string& client = "dive-cli") {
    return post("token", {{"grant_type", "refresh_token"}, {"client_id", client}, {"refresh_token", rt}});
  }
  static Json introspect(const std::string& token) {
    auto r = post("token/introspect", {{"token", token}}, basic("dive-api", client_secret("dive-api")));
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json();
  }
  static Json login(const std::string& user) {
    auto r = password_grant(user, test_password());
    EXPECT_EQ(r.status, 200) << user << ": " << (r.status == 200 ? "" : r.body);
    return r.status == 200 ? r.json() : Json::object();
  }
};

TEST_F(TokensTest, RefreshRotatesAndAReusedTokenRevokesTheFamily) {
  Json first = login("testuser-usa-1");
  auto r2 = refresh(first["refresh_token"]);
  ASSERT_EQ(r2.status, 200) << r2.body;
  Json second = r2.json();
  EXPECT_NE(second["refresh_token"], first["refresh_token"]);
  auto v = validate(second["access_token"]);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_NE(v.token().jti, claims_of(first["access_token"])["jti"]);
  EXPECT_EQ(v.token().claims["sid"], claims_of(first["access_token"])["sid"]) << "same session";
  EXPECT_EQ(refresh(second["refresh_token"], "dive-web").status, 400) << "another client's token";

  auto reuse = refresh(first["refresh_token"]);
  EXPECT_EQ(reuse.status, 400);
  EXPECT_EQ(reuse.json()["error"], "invalid_grant");
  auto after = refresh(second["refresh_token"]);
  EXPECT_EQ(after.status, 400) << "the whole family is revoked after a reuse";
  EXPECT_FALSE(introspect(second["access_token"])["active"].get<bool>())
      << "the access token issued with the family is revoked too";
}

TEST_F(TokensTest, ClientCredentialsWithBasicOrPostAuthentication) {
  auto basic_r =
      post("token", {{"grant_type", "client_credentials"}}, basic("dive-api", client_secret("dive-api")));
  ASSERT_EQ(basic_r.status, 200) << basic_r.body;
  EXPECT_EQ(basic_r.headers.get("Cache-Control").value_or(""), "no-store");
  EXPECT_FALSE(basic_r.json().contains("refresh_token"));
  auto v = validate(basic_r.json()["access_token"]);
  ASSERT_TRUE(v.ok()) << v.message();
  EXPECT_EQ(v.token().subject, "service-account-dive-api");
  auto post_r = post("token", {{"grant_type", "client_credentials"},
                               {"client_id", "dive-kas"},
                               {"client_secret", client_secret("dive-kas")}});
  ASSERT_EQ(post_r.status, 200) << post_r.body;
  EXPECT_EQ(claims_of(post_r.json()["access_token"])["azp"], "dive-kas");
  auto wrong = post("token", {{"grant_type", "client_credentials"}}, basic("dive-api", "wrong"));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.json()["error"], "invalid_client");
  EXPECT_TRUE(wrong.headers.has("WWW-Authenticate"));
  auto both =
      post("token", {{"grant_type", "client_credentials"}, {"client_secret", client_secret("dive-api")}},
           basic("dive-api", client_secret("dive-api")));
  EXPECT_EQ(both.status, 400) << "two authentication methods";
}

TEST_F(TokensTest, IntrospectionNeedsAnAuthenticatedConfidentialClient) {
  Json t = login("contractor.bah");
  Json active = introspect(t["access_token"]);
  EXPECT_TRUE(active["active"].get<bool>());
  EXPECT_EQ(active["username"], "contractor.bah");
  EXPECT_EQ(active["client_id"], "dive-cli");
  Json rt = introspect(t["refresh_token"]);
  EXPECT_TRUE(rt["active"].get<bool>());
  EXPECT_EQ(rt["token_type"], "Refresh");
  EXPECT_FALSE(introspect("garbage")["active"].get<bool>());
  EXPECT_FALSE(introspect("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")["active"].get<bool>());
  EXPECT_EQ(post("token/introspect", {{"token", t["access_token"]}}).status, 401);
  EXPECT_EQ(post("token/introspect", {{"token", t["access_token"]}}, basic("dive-api", "wrong")).status, 401);
  auto pub = post("token/introspect", {{"token", t["access_token"]}, {"client_id", "dive-cli"}});
  EXPECT_EQ(pub.status, 403) << pub.body;
}

TEST_F(TokensTest, RevocationOfAccessAndRefreshTokens) {
  Json t = login("contractor.bah");
  EXPECT_EQ(post("revoke", {{"token", t["refresh_token"]}, {"client_id", "dive-cli"}}).status, 200);
  EXPECT_EQ(refresh(t["refresh_token"]).status, 400);
  EXPECT_FALSE(introspect(t["refresh_token"])["active"].get<bool>());

  Json u = login("contractor.bah");
  EXPECT_EQ(post("revoke", {{"token", u["access_token"]}, {"client_id", "dive-web"}}).status, 400)
      << "a token of another client";
  EXPECT_EQ(post("revoke", {{"token", u["access_token"]}, {"client_id", "dive-cli"}}).status, 200);
  EXPECT_TRUE(wait_until([&] { return !introspect(u["access_token"])["active"].get<bool>(); }, 5000ms));
  EXPECT_EQ(post("revoke", {{"token", "unknown"}, {"client_id", "dive-cli"}}).status, 200);
  EXPECT_EQ(post("revoke", {{"token", "unknown"}}).status, 401) << "no client";
}

TEST_F(TokensTest, UserinfoAnswersForAValidBearerTokenOnly) {
  Json t = login("testuser-usa-5");
  auto r = get(oidc("userinfo"), "Bearer " + t["access_token"].get<std::string>());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["uniqueID"], "testuser-usa-5");
  EXPECT_EQ(r.json()["clearance"], "TOP_SECRET");
  EXPECT_EQ(r.json()["sub"], claims_of(t["access_token"])["sub"]);
  auto none = get(oidc("userinfo"));
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.headers.get("WWW-Authenticate").value_or("").find("Bearer"), std::string::npos);
  EXPECT_EQ(get(oidc("userinfo"), "Bearer " + t["id_token"].get<std::string>()).status, 401) << "ID token";
}

TEST_F(TokensTest, LogoutEndsTheSessionAndRevokesTheUsersTokensButNotLaterLogins) {
  Json t = login("testuser-usa-5");
  std::string bearer = "Bearer " + t["access_token"].get<std::string>();
  ASSERT_EQ(get(oidc("userinfo"), bearer).status, 200);
  auto out = post("logout", {{"client_id", "dive-cli"}, {"refresh_token", t["refresh_token"]}});
  EXPECT_EQ(out.status, 204) << out.body;
  EXPECT_EQ(refresh(t["refresh_token"]).status, 400);
  EXPECT_TRUE(wait_until([&] { return get(oidc("userinfo"), bearer).status == 401; }, 5000ms))
      << "the user's earlier tokens are revoked";
  EXPECT_FALSE(introspect(t["access_token"])["active"].get<bool>());
  Json again = login("testuser-usa-5");
  EXPECT_EQ(get(oidc("userinfo"), "Bearer " + again["access_token"].get<std::string>()).status, 200)
      << "a login after the logout works";
  EXPECT_EQ(post("logout", {{"client_id", "dive-cli"}}).status, 400) << "nothing names a session";
}

TEST_F(TokensTest, MetricsCountTokensByGrantAndResult) {
  post("token", {{"grant_type", "client_credentials"}}, basic("dive-api", client_secret("dive-api")));
  auto m = get("https://localhost:" + std::to_string(cli().port("USA", "idp")) + "/metrics");
  EXPECT_NE(m.body.find("dive_v3_idp_tokens_issued_total{grant=\"client_credentials\",result=\"success\"}"),
            std::string::npos);
  EXPECT_NE(m.body.find("dive_v3_idp_tokens_issued_total{grant=\"password\",result=\"success\"}"),
            std::string::npos);
}

TEST_F(TokensTest, LogoutByGetOnlyAsksAndAPostNeedsALiveCredential) {
  Json t = login("testuser-usa-3");  // (testuser-usa-2 is locked by the lockout tests)
  const std::string bearer = "Bearer " + t["access_token"].get<std::string>();
  const std::string hint = t["id_token"];
  // A GET (a link, an image) ends nothing: it shows a page whose button POSTs.
  auto page = get(oidc("logout") + "?id_token_hint=" + hint);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("<form id=\"logout\" method=\"post\""), std::string::npos) << page.body;
  EXPECT_NE(page.body.find(hint), std::string::npos) << "the hint is carried to the POST";
  EXPECT_EQ(get(oidc("userinfo"), bearer).status, 200);
  // A refresh token ends a session only when presented by its own client, authenticated.
  auto other_client = post("logout", {{"client_id", "dive-web"}, {"refresh_token", t["refresh_token"]}});
  EXPECT_EQ(other_client.status, 400) << other_client.body;
  auto bad_secret = post("logout", {{"refresh_token", t["refresh_token"]}}, basic("dive-api", "wrong"));
  EXPECT_EQ(bad_secret.status, 401) << bad_secret.body;
  // A hint that is not ours (or garbage) names nothing.
  EXPECT_EQ(post("logout", {{"id_token_hint", hint + "x"}}).status, 400);
  EXPECT_EQ(get(oidc("userinfo"), bearer).status, 200) << "nothing above ended the session";
  auto r = refresh(t["refresh_token"]);
  ASSERT_EQ(r.status, 200) << r.body;
  // The confirmation page's POST, with the live hint, ends it.
  auto out = post("logout", {{"id_token_hint", hint}, {"ui", "1"}});
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.body.find("logged out"), std::string::npos) << out.body;
  EXPECT_EQ(refresh(r.json()["refresh_token"]).status, 400);
  EXPECT_TRUE(wait_until([&] { return get(oidc("userinfo"), bearer).status == 401; }, 5000ms));
}

TEST_F(TokensTest, AnExpiredIdTokenHintEndsNothing) {
  // Tokens of 2 s for this test only (the idp restarted with the setting, then without it).
  auto path = cli().home() / "instances" / "usa" / "instance.json";
  const std::string original = *try_read_file(path);
  Json cfg = Json::parse(original);
  cfg["idp"]["access_token_ttl_s"] = 2;
  write_file_atomic(path, cfg.dump(2), 0644);
  ASSERT_EQ(cli().run({"hub", "restart", "idp"}).exit_code, 0);
  Json t = login("testuser-usa-1");
  write_file_atomic(path, original, 0644);
  const std::string hint = t["id_token"];
  const int64_t exp = claims_of(hint)["exp"];
  ASSERT_TRUE(wait_until([&] { return std::time(nullptr) > exp + 1; }, 10000ms));
  for (const std::string& method : {std::string("GET"), std::string("POST")}) {
    auto r = method == "GET" ? get(oidc("logout") + "?id_token_hint=" + hint)
                             : post("logout", {{"id_token_hint", hint}});
    EXPECT_EQ(r.status, method == "GET" ? 200 : 400) << method << ": " << r.body;
  }
  ASSERT_EQ(cli().run({"hub", "restart", "idp"}).exit_code, 0);
  auto r = refresh(t["refresh_token"]);
  EXPECT_EQ(r.status, 200) << "the session was not ended by an expired hint: " << r.body;
  auto v = validate(r.json().value("access_token", ""));
  EXPECT_TRUE(v.ok()) << v.message();
}
