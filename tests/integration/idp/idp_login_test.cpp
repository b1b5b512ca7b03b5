// Discovery, password logins with and without a one-time code, wrong passwords, lockout and errors.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

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

// Runs last in this file (it restarts the idp to clear the in-memory abuse limits it trips for 127.0.0.1).
TEST_F(IdpTest, AFloodOfBadLoginsIsThrottledWhileOtherEndpointsKeepAnswering) {
  constexpr int kFlood = 200;
  std::atomic<int> throttled{0}, refused{0}, other{0}, missing_retry_after{0};
  std::vector<std::thread> flood;
  flood.reserve(kFlood);
  for (int i = 0; i < kFlood; ++i)
    flood.emplace_back([&, i] {
      const std::string user = i % 4 == 0 ? "testuser-usa-2" : "flood-" + std::to_string(i % 10);
      auto r = password_grant(user, "wrong-" + std::to_string(i));
      if (r.status == 429) {
        ++throttled;
        if (!r.headers.has("Retry-After")) ++missing_retry_after;
      } else if (r.status == 400) {
        ++refused;
      } else {
        ++other;
      }
    });
  // Meanwhile the endpoints that need no password hash answer, each within a 2-s deadline.
  net::ClientConfig cc;
  cc.ca_file = cli().ca_file().string();
  net::HttpsClient probe(cc);
  auto timed = [&](net::ClientRequest req, double* worst_ms) {
    req.timeout = Millis(2000);
    auto t0 = std::chrono::steady_clock::now();
    auto r = probe.send(req);
    *worst_ms = std::max(
        *worst_ms, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    return r.status;
  };
  double worst_discovery = 0, worst_jwks = 0, worst_cc = 0;
  int answered = 0, probes = 0;
  for (; probes < 10; ++probes) {
    net::ClientRequest d;
    d.url = issuer() + "/.well-known/openid-configuration";
    net::ClientRequest j;
    j.url = oidc("certs");
    net::ClientRequest c;
    c.method = "POST";
    c.url = oidc("token");
    c.headers.set("Content-Type", "application/x-www-form-urlencoded");
    c.headers.set("Authorization", basic("dive-api", client_secret("dive-api")));
    c.body = "grant_type=client_credentials";
    answered += timed(d, &worst_discovery) == 200;
    answered += timed(j, &worst_jwks) == 200;
    answered += timed(c, &worst_cc) == 200;
  }
  for (auto& t : flood) t.join();
  std::printf(
      "[ TIMING ] during %d concurrent bad logins: worst discovery %.1f ms, JWKS %.1f ms, client "
      "credentials %.1f ms; %d throttled (429), %d evaluated (400)\n",
      kFlood, worst_discovery, worst_jwks, worst_cc, throttled.load(), refused.load());
  EXPECT_EQ(answered, 3 * probes) << "discovery, JWKS and client credentials answer during the flood";
  EXPECT_GT(throttled.load(), kFlood / 2) << "most of the flood is refused before any hash";
  EXPECT_EQ(missing_retry_after.load(), 0);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(throttled.load() + refused.load(), kFlood);
  // Locked (by those of its guesses that were evaluated, or earlier): its right password opens nothing.
  Json users = cli().run_json({"hub", "users", "--json"});
  for (const auto& u : users)
    if (u["username"] == "testuser-usa-2") {
      EXPECT_TRUE(u["locked"].get<bool>()) << u.dump();
    }
  // The refusals are counted by the limit that made them.
  auto m = get("https://localhost:" + std::to_string(cli().port("USA", "idp")) + "/metrics");
  double counted = 0;
  for (const char* limit : {"busy", "account", "source"}) {
    const std::string series = std::string("dive_v3_idp_login_throttled_total{limit=\"") + limit + "\"} ";
    auto at = m.body.find(series);
    if (at != std::string::npos) counted += std::stod(m.body.substr(at + series.size()));
  }
  EXPECT_EQ(counted, throttled.load());
  ASSERT_EQ(cli().run({"hub", "restart", "idp"}).exit_code, 0);  // forgets the limits (kept in memory)
  EXPECT_EQ(password_grant("testuser-usa-1", test_password()).status, 200);
}
