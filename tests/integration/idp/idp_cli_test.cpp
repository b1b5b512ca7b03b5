// ./dive hub users, users otp, keys rotate — and a rotation seen by a running idp and by validators.
#include <thread>

#include "common/fs.hpp"
#include "identity/jws.hpp"
#include "idp_fixture.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

TEST_F(IdpTest, UsersListsTheSeededRealm) {
  Json users = cli().run_json({"hub", "users", "--json"});
  ASSERT_TRUE(users.is_array());
  std::set<std::string> names;
  for (const auto& u : users) {
    names.insert(u["username"]);
    EXPECT_TRUE(u["totp"].get<bool>()) << u.dump();
    EXPECT_FALSE(u.contains("password_hash"));
    EXPECT_EQ(u["countryOfAffiliation"], "USA");
  }
  for (const char* want : {"testuser-usa-1", "testuser-usa-2", "testuser-usa-3", "testuser-usa-4",
                           "testuser-usa-5", "admin-usa", "contractor.bah"})
    EXPECT_TRUE(names.count(want)) << want;
  for (const auto& u : users)
    if (u["username"] == "admin-usa") {
      EXPECT_EQ(u["roles"], Json({"user", "admin", "super_admin"}));
    }
  auto human = cli().run({"hub", "users"});
  EXPECT_EQ(human.exit_code, 0);
  EXPECT_NE(human.output.find("testuser-usa-5"), std::string::npos);
  EXPECT_NE(human.output.find("TOP_SECRET"), std::string::npos);
}

TEST_F(IdpTest, OtpIsRefusedForUnknownUsersAndOutsideDevAndTest) {
  EXPECT_EQ(cli().run({"hub", "users", "otp", "nobody"}).exit_code, 1);
  fs::path cfg_file = cli().home() / "instances" / "usa" / "instance.json";
  std::string original = read_file(cfg_file);
  Json cfg = Json::parse(original);
  cfg["profile"] = "production";
  write_file_atomic(cfg_file, cfg.dump(2));
  auto r = cli().run({"hub", "users", "otp", "testuser-usa-1"});
  write_file_atomic(cfg_file, original);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("refused"), std::string::npos) << r.output;
  EXPECT_EQ(cli().run({"spoke", "users"}).exit_code, 64) << "a spoke needs its code";
}

TEST_F(IdpTest, KeyRotationPublishesTheNewKeyAndKeepsTheOldOneUntilItsTokensExpire) {
  auto before = password_grant("admin-usa", secrets()["admin_password"]);
  ASSERT_EQ(before.status, 200) << before.body;
  std::string old_token = before.json()["access_token"];
  std::string old_kid = identity::parse_compact(old_token).header["kid"];

  auto r = cli().run({"hub", "keys", "rotate"});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  std::string new_kid;
  ASSERT_TRUE(wait_until(
      [&] {
        auto t = post("token", {{"grant_type", "client_credentials"}},
                      basic("dive-api", client_secret("dive-api")));
        if (t.status != 200) return false;
        new_kid = identity::parse_compact(t.json()["access_token"].get<std::string>()).header["kid"];
        return new_kid != old_kid;
      },
      10000ms, 200ms))
      << "the running idp signs with the new key within its poll interval";
  Json jwks = get(oidc("certs")).json();
  std::set<std::string> kids;
  for (const auto& k : jwks["keys"]) kids.insert(k["kid"]);
  EXPECT_TRUE(kids.count(old_kid)) << "the retired key stays published";
  EXPECT_TRUE(kids.count(new_kid));

  // A validator that has never seen either key accepts both tokens through the JWKS.
  net::HttpsClient http(net::ClientConfig{.ca_file = cli().ca_file().string()});
  resilience::CircuitBreaker breaker("idp", resilience::BreakerConfig{});
  identity::HttpJwksSource source(http, breaker);
  identity::ValidatorConfig vc;
  vc.allowed_issuers = {issuer()};
  vc.audience = "dive-kas";
  identity::TokenValidator fresh(vc, source);
  auto old_ok = fresh.validate(old_token);
  EXPECT_TRUE(old_ok.ok()) << old_ok.message();
  EXPECT_EQ(old_ok.token().kid, old_kid);
  auto after = password_grant("admin-usa", secrets()["admin_password"]);
  ASSERT_EQ(after.status, 200);
  auto new_ok = fresh.validate(after.json()["access_token"].get<std::string>());
  EXPECT_TRUE(new_ok.ok()) << new_ok.message();
  EXPECT_EQ(new_ok.token().kid, new_kid);
  EXPECT_EQ(validate(after.json()["access_token"]).ok(), true)
      << "unknown kid refreshes the suite's validator";
}
