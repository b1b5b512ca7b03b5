// Token authentication and cross-instance revocation with real processes: a hub (USA) and a spoke (TST)
// deployed with the test profile; tokens from the hub's real idp (password grant). A logout through the
// hub's api is known to every api and kas within a second; a fresh login works; revoking one token
// leaves the user's others valid; during a blacklist-Redis outage known revocations hold, a new one is
// enforced locally and reaches the other instance once Redis is back; a blacklist Redis that comes back
// without its data is written back by the mirrors that still enforce what it lost; a stale mirror fails
// closed (503).
#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "api_client.hpp"
#include "common/encoding.hpp"
#include "common/fs.hpp"
#include "dive_cli.hpp"
#include "servers.hpp"
#include "store/redis_client.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

// The first 16 hex digits of SHA-256: how the revocation status names a uniqueID or jti.
std::string ref(const std::string& id) {
  return sha256_hex(id).substr(0, 16);
}

}  // namespace

class Revocation : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cli_ = new DiveCli({"USA", "TST"});
    auto hub = cli_->run({"hub", "deploy", "--profile", "test"});
    ASSERT_EQ(hub.exit_code, 0) << hub.output;
    auto spoke = cli_->run({"spoke", "deploy", "TST", "--profile", "test"});
    ASSERT_EQ(spoke.exit_code, 0) << spoke.output;
    hub_ = new ApiClient(*cli_, "USA");
    spoke_ = new ApiClient(*cli_, "TST");
  }
  static void TearDownTestSuite() {
    delete spoke_;
    delete hub_;
    spoke_ = hub_ = nullptr;
    delete cli_;
    cli_ = nullptr;
  }

  static ApiReply call(const std::string& code, const std::string& service, const std::string& method,
                       const std::string& path, const std::string& token = "") {
    return (code == "USA" ? hub_ : spoke_)
        ->call(service, method, path, token, method == "POST" ? Json::object() : Json());
  }
  // Every user here belongs to the hub's idp: the spoke trusts it through the deployment bundle.
  static Json login(const std::string& user) { return hub_->login(user, false, "openid"); }
  static std::string access_token(const std::string& user) { return login(user).value("access_token", ""); }

  static int me(const std::string& code, const std::string& token) {
    return call(code, "api", "GET", "/api/auth/me", token).status;
  }
  // The kas authenticates before anything else: 401/503 when it refuses the token, else the body's verdict.
  static int kas_key(const std::string& code, const std::string& token) {
    return call(code, "kas", "POST", "/request-key", token).status;
  }
  static Json status(const std::string& code) {
    auto r = call(code, "api", "GET", "/api/auth/revocations/status");
    EXPECT_EQ(r.status, 200) << r.body.dump();
    return r.body;
  }
  // The event for `id` in an instance's revocation status, or null.
  static Json event_in(const std::string& code, const std::string& kind, const std::string& id) {
    Json st = status(code);
    for (const auto& e : st["mirror"]["recentEvents"])
      if (e["kind"] == kind && e["ref"] == ref(id)) return e;
    return nullptr;
  }
  // A kas's propagation histogram from /metrics: (observations <= le seconds, all observations).
  static std::pair<uint64_t, uint64_t> kas_propagation(const std::string& code, const std::string& le) {
    auto [st, text] = cli_->https_get(cli_->port(code, "kas"), "/metrics");
    EXPECT_EQ(st, 200);
    auto value = [&](const std::string& series) -> uint64_t {
      std::smatch m;
      std::regex re("\n" + std::regex_replace(series, std::regex(R"([{}".+])"), R"(\$&)") + " ([0-9.e+]+)");
      return std::regex_search(text, m, re) ? static_cast<uint64_t>(std::stod(m[1])) : 0;
    };
    return {value("dive_v3_revocation_propagation_seconds_bucket{le=\"" + le + "\"}"),
            value("dive_v3_revocation_propagation_seconds_count")};
  }
  static Json health(const std::string& code) { return call(code, "api", "GET", "/health/detailed").body; }

  static DiveCli* cli_;
  static ApiClient* hub_;
  static ApiClient* spoke_;
};
DiveCli* Revocation::cli_ = nullptr;
ApiClient* Revocation::hub_ = nullptr;
ApiClient* Revocation::spoke_ = nullptr;

TEST_F(Revocation, MeReturnsTheVerifiedIdentityOnEveryInstanceThatTrustsTheIssuer) {
  Json tok = login("testuser-usa-1");
  std::string t = tok.at("access_token");
  auto r = call("USA", "api", "GET", "/api/auth/me", t);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  Json who = r.body;
  EXPECT_EQ(who["uniqueID"], "testuser-usa-1");
  EXPECT_EQ(who["countryOfAffiliation"], "USA");
  EXPECT_EQ(who["iss"], cli_->instance_config("USA")["issuer"]);
  EXPECT_TRUE(who["clearance"].is_string()) << who.dump();
  EXPECT_TRUE(who["acpCOI"].is_array()) << who.dump();
  EXPECT_EQ(who["acr"], "0");
  EXPECT_EQ(who["amr"], Json::array({"pwd"}));
  EXPECT_TRUE(who["exp"].is_number()) << who.dump();
  // The spoke trusts the hub's issuer through the deployment bundle.
  EXPECT_TRUE(wait_until([&] { return me("TST", t) == 200; }, 10s));
  // The kas authenticates (audience dive-kas) before it looks at the request.
  // The spoke's kas loads the hub's issuer on its own schedule; poll, bounded.
  EXPECT_NE(kas_key("USA", t), 401);
  EXPECT_TRUE(wait_until([&] { return kas_key("TST", t) != 401; }, 10s));
}

TEST_F(Revocation, BadTokensAre401WithoutEchoingTheToken) {
  std::string good = access_token("testuser-usa-1");
  auto parts_of = [](const std::string& t) {
    auto a = t.find('.'), b = t.rfind('.');
    return std::array<std::string, 3>{t.substr(0, a), t.substr(a + 1, b - a - 1), t.substr(b + 1)};
  };
  auto p = parts_of(good);
  Json claims = Json::parse(base64url_decode(p[1]).value_or("{}"));
  claims["exp"] = claims["iat"].get<int64_t>() - 3600;  // expired-looking (and so no longer signed)
  std::string expired = p[0] + "." + base64url_encode(claims.dump()) + "." + p[2];
  Json id = login("testuser-usa-1");
  std::string id_token = id.value("id_token", "");  // audience dive-cli, typ ID: not an access token

  auto no_header = call("USA", "api", "GET", "/api/auth/me");
  EXPECT_EQ(no_header.status, 401);
  Json body = no_header.body;
  EXPECT_EQ(body["error"], "Unauthorized");
  EXPECT_TRUE(body["message"].is_string());
  EXPECT_TRUE(body["requestId"].is_string());
  for (const std::string& bad : {std::string("garbage"), std::string("a.b.c"), expired, id_token}) {
    if (bad.empty()) continue;
    for (const std::string code : {"USA", "TST"}) {
      auto r = call(code, "api", "GET", "/api/auth/me", bad);
      EXPECT_EQ(r.status, 401) << r.body.dump();
      EXPECT_EQ(r.body.dump().find(bad), std::string::npos);
      EXPECT_EQ(r.body["error"], "Unauthorized");
    }
    EXPECT_EQ(kas_key("USA", bad), 401);
  }
  EXPECT_FALSE(id_token.empty()) << "the password grant with scope openid gives an ID token";
}

TEST_F(Revocation, ALogoutThroughTheHubIsKnownEverywhereWithinASecondAndEnforcedByEveryKas) {
  const std::string user = "testuser-usa-2";
  std::string t = access_token(user);
  ASSERT_TRUE(wait_until([&] { return me("TST", t) == 200; }, 10s));
  ASSERT_EQ(me("USA", t), 200);
  ASSERT_NE(kas_key("USA", t), 401);
  ASSERT_TRUE(wait_until([&] { return kas_key("TST", t) != 401; }, 10s));
  auto kas_before = kas_propagation("TST", "1");

  auto out = call("USA", "api", "POST", "/api/auth/logout", t);
  ASSERT_EQ(out.status, 200) << out.body.dump();
  EXPECT_EQ(out.body["details"]["propagation"], "pushed") << out.body.dump();
  EXPECT_EQ(me("USA", t), 401) << "the api that logged out refuses the token at once";

  // Every instance's mirror has the event, measured as arriving within a second.
  for (const std::string code : {"USA", "TST"}) {
    Json e;
    ASSERT_TRUE(wait_until([&] { return !(e = event_in(code, "user", user)).is_null(); }, 5s))
        << code << " " << status(code).dump();
    EXPECT_LE(e["propagationMs"].get<int64_t>(), 1000) << code << " " << e.dump();
    EXPECT_EQ(e["instance"], "USA");
    std::cout << "[ propagation ] " << code << " api: " << e["propagationMs"] << " ms (" << e["source"]
              << ")\n";
  }
  EXPECT_EQ(me("TST", t), 401);
  // Each kas keeps its own mirror: the api's arrival says nothing about the kas's, so poll (bounded); the
  // kas's own propagation histogram below holds it to the one-second promise.
  EXPECT_TRUE(wait_until([&] { return kas_key("USA", t) == 401; }, 5s));
  EXPECT_TRUE(wait_until([&] { return kas_key("TST", t) == 401; }, 5s));
  // The spoke's kas measured its arrivals too: all of them within a second.
  auto kas_after = kas_propagation("TST", "1");
  EXPECT_GT(kas_after.second, kas_before.second);
  EXPECT_EQ(kas_after.first, kas_after.second) << "every revocation reached the spoke's kas within 1 s";
}

TEST_F(Revocation, AFreshLoginAfterALogoutIsAccepted) {
  const std::string user = "testuser-usa-2";
  std::string old_token = access_token(user);
  ASSERT_EQ(call("USA", "api", "POST", "/api/auth/logout", old_token).status, 200);
  std::string fresh = access_token(user);
  EXPECT_EQ(me("USA", fresh), 200);
  EXPECT_TRUE(wait_until([&] { return me("TST", fresh) == 200; }, 5s));
  EXPECT_TRUE(wait_until([&] { return kas_key("TST", fresh) != 401; }, 5s));
  EXPECT_EQ(me("USA", old_token), 401);
}

TEST_F(Revocation, RevokingOneTokenLeavesTheUsersOtherTokensValid) {
  const std::string user = "testuser-usa-3";
  std::string one = access_token(user), other = access_token(user);
  ASSERT_EQ(me("USA", one), 200);
  auto r = call("USA", "api", "POST", "/api/auth/revoke", one);
  ASSERT_EQ(r.status, 200) << r.body.dump();
  Json jti = r.body["details"]["jti"];
  EXPECT_EQ(me("USA", one), 401);
  ASSERT_TRUE(wait_until([&] { return !event_in("TST", "token", jti.get<std::string>()).is_null(); }, 5s));
  EXPECT_EQ(me("TST", one), 401);
  EXPECT_TRUE(wait_until([&] { return kas_key("TST", one) == 401; }, 5s)) << "the kas keeps its own mirror";
  EXPECT_EQ(me("USA", other), 200);
  EXPECT_EQ(me("TST", other), 200);
  EXPECT_NE(kas_key("TST", other), 401);
}

TEST_F(Revocation, DuringABlacklistOutageRevocationsHoldAndQueueAndArriveWhenItIsBack) {
  std::string revoked = access_token("testuser-usa-1");
  ASSERT_EQ(call("USA", "api", "POST", "/api/auth/revoke", revoked).status, 200);
  const std::string user = "testuser-usa-4";
  std::string t = access_token(user);
  ASSERT_TRUE(wait_until([&] { return me("TST", t) == 200 && me("TST", revoked) == 401; }, 10s));

  ASSERT_EQ(cli_->run({"hub", "stop", "redis-blacklist"}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return health("USA")["status"] == "degraded"; }, 15s)) << health("USA").dump();
  Json h = health("USA");
  EXPECT_EQ(h["checks"]["blacklistRedis"]["status"], "down") << h.dump();
  EXPECT_TRUE(wait_until([&] { return health("TST")["status"] == "degraded"; }, 15s)) << health("TST").dump();
  // What is known stays enforced.
  EXPECT_EQ(me("USA", revoked), 401);
  EXPECT_EQ(me("TST", revoked), 401);
  EXPECT_EQ(kas_key("TST", revoked), 401);

  // A logout now lands in the hub's outbox and is enforced there at once.
  auto out = call("USA", "api", "POST", "/api/auth/logout", t);
  ASSERT_EQ(out.status, 200) << out.body.dump();
  EXPECT_EQ(out.body["details"]["propagation"], "queued") << out.body.dump();
  EXPECT_EQ(me("USA", t), 401);
  EXPECT_GE(status("USA")["mirror"]["outboxPending"].get<int>(), 1) << status("USA").dump();
  EXPECT_TRUE(wait_until([&] { return kas_key("USA", t) == 401; }, 5s)) << "the hub's kas reads the outbox";

  ASSERT_EQ(cli_->run({"hub", "start", "redis-blacklist"}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return me("TST", t) == 401; }, 20s)) << status("TST").dump();
  EXPECT_TRUE(wait_until([&] { return kas_key("TST", t) == 401; }, 10s));
  EXPECT_TRUE(wait_until([&] { return status("USA")["mirror"]["outboxPending"] == 0; }, 10s))
      << status("USA").dump();
  EXPECT_TRUE(wait_until([&] { return health("USA")["status"] == "healthy"; }, 20s)) << health("USA").dump();
  EXPECT_EQ(me("USA", revoked), 401);
}

TEST_F(Revocation, ABlacklistThatComesBackWithoutItsDataIsWrittenBackAndNothingIsUnrevoked) {
  std::string revoked = access_token("testuser-usa-2");
  Json me_revoked = call("USA", "api", "GET", "/api/auth/me", revoked).body;
  ASSERT_EQ(call("USA", "api", "POST", "/api/auth/revoke", revoked).status, 200);
  const std::string user = "testuser-usa-3";
  std::string t = access_token(user);
  const std::string uid = call("USA", "api", "GET", "/api/auth/me", t).body.value("uniqueID", "");
  ASSERT_FALSE(uid.empty());
  ASSERT_EQ(call("USA", "api", "POST", "/api/auth/logout", t).status, 200);
  ASSERT_TRUE(wait_until([&] { return me("TST", revoked) == 401 && me("TST", t) == 401; }, 10s));

  // The blacklist Redis, read directly.
  store::RedisConfig rc;
  rc.name = "blacklist";
  rc.port = cli_->instance_config("USA")["blacklist_redis"]["port"].get<uint16_t>();
  rc.password = Json::parse(*try_read_file(cli_->home() / "instances" / "usa" / "secrets.json"))
                    .at("blacklist_redis_password")
                    .get<std::string>();
  const std::string jti_key = "blacklist:" + me_revoked.value("jti", "");
  const std::string user_key = "user-revoked:" + uid;
  {
    store::RedisClient redis(rc);
    ASSERT_TRUE(redis.get(jti_key).has_value());
    ASSERT_TRUE(redis.get(user_key).has_value());
  }

  // Restarted with its append-only file gone: it comes back empty.
  ASSERT_EQ(cli_->run({"hub", "stop", "redis-blacklist"}).exit_code, 0);
  const auto data = cli_->home() / "instances" / "usa" / "redis-blacklist" / "appendonlydir";
  ASSERT_TRUE(std::filesystem::exists(data)) << data;
  std::filesystem::remove_all(data);
  ASSERT_EQ(cli_->run({"hub", "start", "redis-blacklist"}).exit_code, 0);

  // Every running mirror still refuses both, and writes them back within a resync or two.
  store::RedisClient redis(rc);
  EXPECT_TRUE(wait_until([&] { return redis.get(jti_key) && redis.get(user_key); }, 20s))
      << "not written back: " << status("USA").dump();
  // Whichever process resynchronised first wrote them back (the others then found nothing missing), and
  // counted them. Every process that keeps a mirror may be the first: api, kas and idp (which keeps one
  // for introspection) of both instances.
  auto restored = [&] {
    double n = 0;
    for (const std::string code : {"USA", "TST"})
      for (const std::string svc : {"api", "kas", "idp"}) {
        auto [st, text] = cli_->https_get(cli_->port(code, svc), "/metrics");
        std::smatch m;
        if (st == 200 &&
            std::regex_search(text, m, std::regex("\ndive_v3_revocation_restored_total ([0-9.e+]+)")))
          n += std::stod(m[1]);
      }
    return n;
  };
  // (counted once its write-back loop ends, a moment after the keys are visible in Redis)
  EXPECT_TRUE(wait_until([&] { return restored() >= 2.0; }, 5s)) << restored();
  for (const std::string code : {"USA", "TST"}) {
    EXPECT_EQ(me(code, revoked), 401) << code;
    EXPECT_EQ(me(code, t), 401) << code;
  }
  // A process started now learns only from the blacklist, and refuses them too.
  ASSERT_EQ(cli_->run({"spoke", "restart", "TST", "api"}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return me("TST", revoked) == 401 && me("TST", t) == 401; }, 15s));
  EXPECT_EQ(me("TST", access_token(user)), 200) << "a login after the logout is still accepted";
}

TEST_F(Revocation, RefreshTokensIssuedBeforeALogoutAreRefusedWhereverTheLogoutWasMade) {
  auto refresh = [](const std::string& rt) {
    return hub_->oidc_post(
        "token", {{"grant_type", "refresh_token"}, {"client_id", "dive-cli"}, {"refresh_token", rt}});
  };
  // The idp's mirror has the user's revocation when its userinfo refuses the user's earlier token.
  auto idp_knows = [](const Json& tokens) {
    return hub_->oidc_post("userinfo", {}, "Bearer " + tokens.value("access_token", "")).status == 401;
  };
  // A logout at the hub's api, and one at the spoke's api (it reaches the hub's idp through the blacklist).
  for (const std::string where : {"USA", "TST"}) {
    const std::string user = where == "USA" ? "testuser-usa-1" : "testuser-usa-2";
    Json before = login(user);
    ASSERT_FALSE(before.is_null());
    Json rotated = refresh(before.value("refresh_token", "")).body;  // a family with some history
    ASSERT_TRUE(rotated.contains("refresh_token")) << rotated.dump();
    ASSERT_TRUE(wait_until([&] { return me(where, before["access_token"]) == 200; }, 10s));
    ASSERT_EQ(call(where, "api", "POST", "/api/auth/logout", before["access_token"]).status, 200) << where;
    ASSERT_TRUE(wait_until([&] { return idp_knows(before); }, 10s)) << where;
    auto refused = refresh(rotated["refresh_token"]);
    EXPECT_EQ(refused.status, 400) << where << ": " << refused.body.dump();
    EXPECT_EQ(refused.body["error"], "invalid_grant") << where;
    EXPECT_EQ(refresh(rotated["refresh_token"]).status, 400) << where << ": the family stays revoked";
    // A login after the logout has a working refresh token.
    Json after = login(user);
    auto ok = refresh(after.value("refresh_token", ""));
    EXPECT_EQ(ok.status, 200) << where << ": " << ok.body.dump();
  }
}

TEST_F(Revocation, AnApiRestartedDuringABlacklistOutageStillRefusesWhatWasRevoked) {
  std::string revoked = access_token("testuser-usa-4");
  ASSERT_EQ(call("USA", "api", "POST", "/api/auth/logout", revoked).status, 200);
  std::string live = access_token("testuser-usa-5");
  ASSERT_TRUE(wait_until([&] { return me("TST", revoked) == 401 && me("TST", live) == 200; }, 10s));
  const auto copy = cli_->home() / "instances" / "tst" / "state" / "api-revocation-mirror.json";
  ASSERT_TRUE(wait_until([&] { return std::filesystem::exists(copy); }, 5s)) << copy;
  EXPECT_EQ(std::filesystem::status(copy).permissions() & std::filesystem::perms::others_read,
            std::filesystem::perms::none);

  ASSERT_EQ(cli_->run({"hub", "stop", "redis-blacklist"}).exit_code, 0);
  ASSERT_EQ(cli_->run({"spoke", "restart", "TST", "api"}).exit_code, 0);
  // Restored from its durable copy: what was revoked stays refused, the rest is served.
  EXPECT_EQ(me("TST", revoked), 401) << status("TST").dump();
  EXPECT_EQ(me("TST", live), 200) << status("TST").dump();
  Json st = status("TST");
  EXPECT_FALSE(st["mirror"]["stale"].get<bool>()) << st.dump();
  EXPECT_FALSE(st["mirror"]["syncedOnce"].get<bool>()) << "restored, not synchronised: " << st.dump();

  // Without a copy and without the blacklist it knows nothing: every token is refused with 503.
  ASSERT_EQ(cli_->run({"spoke", "stop", "TST", "api"}).exit_code, 0);
  std::filesystem::remove(copy);
  ASSERT_EQ(cli_->run({"spoke", "start", "TST", "api"}).exit_code, 0);
  EXPECT_EQ(me("TST", revoked), 503);
  EXPECT_EQ(me("TST", live), 503);

  ASSERT_EQ(cli_->run({"hub", "start", "redis-blacklist"}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return me("TST", live) == 200; }, 20s)) << status("TST").dump();
  EXPECT_EQ(me("TST", revoked), 401);
}

TEST_F(Revocation, ATokenThatWouldOutliveItsUsersLogoutIsRefused) {
  // The spoke's api remembers user revocations for only 600 s (an operator's edit): a 900-s token could
  // then outlive its user's logout by 330 s, so that api refuses tokens living longer than 570 s.
  auto path = cli_->home() / "instances" / "tst" / "instance.json";
  const std::string original = *try_read_file(path);
  Json cfg = Json::parse(original);
  cfg["revocation"]["user_retention_s"] = 600;
  write_file_atomic(path, cfg.dump(2), 0644);
  ASSERT_EQ(cli_->run({"spoke", "restart", "TST", "api"}).exit_code, 0);
  std::string t = access_token("testuser-usa-4");
  EXPECT_EQ(me("TST", t), 401);
  EXPECT_EQ(me("USA", t), 200) << "the hub's api keeps the default 1230 s, which covers 900-s tokens";

  write_file_atomic(path, original, 0644);
  ASSERT_EQ(cli_->run({"spoke", "restart", "TST", "api"}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return me("TST", t) == 200; }, 15s));
}

TEST_F(Revocation, AMirrorStaleBeyondMaxStalenessFailsClosedWith503AndRecovers) {
  // The spoke's api gets a short max_staleness (an operator's edit of instance.json, kept on restart).
  auto path = cli_->home() / "instances" / "tst" / "instance.json";
  Json cfg = Json::parse(*try_read_file(path));
  cfg["revocation"]["max_staleness_s"] = 3;
  cfg["revocation"]["resync_interval_s"] = 1;
  write_file_atomic(path, cfg.dump(2), 0644);
  ASSERT_EQ(cli_->run({"spoke", "restart", "TST", "api"}).exit_code, 0);
  std::string t = access_token("testuser-usa-5");
  ASSERT_TRUE(wait_until([&] { return me("TST", t) == 200; }, 15s));

  ASSERT_EQ(cli_->run({"hub", "stop", "redis-blacklist"}).exit_code, 0);
  ApiReply r;
  EXPECT_TRUE(wait_until(
      [&] {
        r = call("TST", "api", "GET", "/api/auth/me", t);
        return r.status == 503;
      },
      20s))
      << r.status << " " << r.body.dump();
  EXPECT_EQ(r.body["error"], "Service Unavailable");
  Json st = status("TST");
  EXPECT_TRUE(st["mirror"]["stale"].get<bool>()) << st.dump();
  // (/health is cached for a moment: it may lag the request path by that much.)
  EXPECT_TRUE(wait_until([&] { return health("TST")["checks"]["revocationMirror"]["status"] == "down"; }, 5s))
      << health("TST").dump();
  EXPECT_EQ(me("USA", t), 200) << "the hub's mirror (max_staleness 300 s) is not stale yet";

  ASSERT_EQ(cli_->run({"hub", "start", "redis-blacklist"}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return me("TST", t) == 200; }, 20s)) << status("TST").dump();
  EXPECT_FALSE(status("TST")["mirror"]["stale"].get<bool>());
}
