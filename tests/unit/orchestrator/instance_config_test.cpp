#include "orchestrator/instance_config.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/encoding.hpp"
#include "common/fs.hpp"

using namespace dive;
using namespace dive::orch;

TEST(InstanceConfig, DefaultsFollowThePortTableAndRole) {
  TempDir home;
  Layout l{home.path()};
  Json hub = default_instance_config(l, "USA", Profile::Dev, 0);
  EXPECT_EQ(hub["role"], "hub");
  EXPECT_EQ(hub["ports"]["api"], 4000);
  EXPECT_EQ(hub["issuer"], "https://localhost:8443/realms/dive-v3-broker-usa");
  // A spoke in a home without a hub is standalone: it knows no hub until it joins one.
  Json alone = default_instance_config(l, "TST", Profile::Test, 100);
  EXPECT_EQ(alone["role"], "spoke");
  EXPECT_TRUE(alone["standalone"].get<bool>());
  EXPECT_TRUE(alone["hub"]["api_url"].is_null());
  // Beside a hub: the hub's ports.
  write_instance_config(l, "USA", Profile::Test, 100);
  Json tst = default_instance_config(l, "TST", Profile::Test, 100);
  EXPECT_FALSE(tst["standalone"].get<bool>());
  EXPECT_FALSE(hub["standalone"].get<bool>());
  EXPECT_EQ(tst["ports"]["idp"], 8743);
  EXPECT_EQ(tst["blacklist_redis"]["port"], 7099);
  EXPECT_EQ(tst["hub"]["postgres_port"], 5532);
  EXPECT_EQ(tst["hub"]["api_url"], "https://localhost:4100");
}

TEST(InstanceConfig, TestProfileKeepsEveryBreakerCooldownAtMostFiveSeconds) {
  TempDir home;
  Json c = default_instance_config(Layout{home.path()}, "USA", Profile::Test, 0);
  for (auto& [name, b] : c["breakers"].items()) EXPECT_LE(b["timeout_ms"].get<int>(), 5000) << name;
  Json d = default_instance_config(Layout{home.path()}, "USA", Profile::Dev, 0);
  EXPECT_EQ(d["breakers"]["pdp"]["timeout_ms"], 60000);
  EXPECT_EQ(d["breakers"]["idp"]["failure_threshold"], 3);
  EXPECT_LT(c["seed"]["count"].get<int>(), d["seed"]["count"].get<int>());
}

TEST(InstanceConfig, TheIdpSectionShowsItsSettingsAndItsTokensAreCoveredByRevocation) {
  TempDir home;
  for (Profile p : {Profile::Dev, Profile::Test}) {
    Json c = default_instance_config(Layout{home.path()}, "USA", p, 0);
    EXPECT_EQ(c["idp"]["lockout_threshold"], 5);
    EXPECT_EQ(c["idp"]["lockout_minutes"], 15);
    EXPECT_GE(c["idp"]["argon2"]["memory_kib"].get<int>(), 19456);
    // A logout must be remembered for longer than a token it revokes stays valid (+30 s clock skew);
    // the idp refuses to start otherwise (tests/unit/idp/idp_config_test.cpp).
    EXPECT_LE(c["idp"]["access_token_ttl_s"].get<int>() + 30, c["revocation"]["user_retention_s"].get<int>());
  }
}

TEST(InstanceConfig, RewriteKeepsOperatorEditsButNotDerivedFields) {
  TempDir home;
  Layout l{home.path()};
  Json c = write_instance_config(l, "FRA", Profile::Dev, 0);
  c["breakers"]["pdp"]["failure_threshold"] = 9;
  c["ports"]["api"] = 1;  // derived: must be put back
  write_file_atomic(l.instance("FRA").instance_json, c.dump());
  Json again = write_instance_config(l, "FRA", Profile::Dev, 0);
  EXPECT_EQ(again["breakers"]["pdp"]["failure_threshold"], 9);
  EXPECT_EQ(again["ports"]["api"], 4010);
  Json test = write_instance_config(l, "FRA", Profile::Test, 0);  // a profile change regenerates
  EXPECT_EQ(test["breakers"]["pdp"]["failure_threshold"], 5);
}

TEST(Placement, HostAndBindFromTheCommandLine) {
  Placement def;
  EXPECT_EQ(def.host, "localhost");
  EXPECT_EQ(def.bind, "127.0.0.1");
  auto ip = make_placement("127.0.0.2", "");
  EXPECT_EQ(ip.host, "127.0.0.2");
  EXPECT_EQ(ip.bind, "127.0.0.2");  // an address is also where to listen
  auto name = make_placement("Dive.FRA.example", "");
  EXPECT_EQ(name.host, "dive.fra.example");
  EXPECT_EQ(name.bind, "127.0.0.1");  // a name: listening beyond loopback is the operator's choice
  auto all = make_placement("dive.fra.example", "0.0.0.0");
  EXPECT_EQ(all.bind, "0.0.0.0");
  EXPECT_EQ(all.local_address(), "127.0.0.1");
  EXPECT_EQ(make_placement("", "10.1.2.3").host, "localhost");
  for (const char* bad : {"https://x.example", "x.example:443", "a b", "-x", "x/y"})
    EXPECT_THROW(make_placement(bad, ""), std::invalid_argument) << bad;
  for (const char* bad : {"localhost", "::1", "10.0.0", "x"})
    EXPECT_THROW(make_placement("", bad), std::invalid_argument) << bad;
}

TEST(Placement, UrlsIssuerAndTheHubsUrlsFollowTheHostAndAreKeptAcrossRedeploys) {
  TempDir home;
  Layout l{home.path()};
  Json hub = write_instance_config(l, "USA", Profile::Test, 0, make_placement("127.0.0.2", ""));
  EXPECT_EQ(hub["host"], "127.0.0.2");
  EXPECT_EQ(hub["bind"], "127.0.0.2");
  EXPECT_EQ(hub["urls"]["api"], "https://127.0.0.2:4000");
  EXPECT_EQ(hub["issuer"], "https://127.0.0.2:8443/realms/dive-v3-broker-usa");
  // A spoke of this home finds the hub where it is.
  Json fra = write_instance_config(l, "FRA", Profile::Test, 0);
  EXPECT_EQ(fra["urls"]["api"], "https://localhost:4010");
  EXPECT_EQ(fra["hub"]["api_url"], "https://127.0.0.2:4000");
  // A redeploy without --host keeps the placement; an edit of the derived fields is put back.
  hub["urls"]["api"] = "https://elsewhere:1";
  write_file_atomic(l.instance("USA").instance_json, hub.dump());
  Json again = write_instance_config(l, "USA", Profile::Test, 0);
  EXPECT_EQ(again["host"], "127.0.0.2");
  EXPECT_EQ(again["urls"]["api"], "https://127.0.0.2:4000");
  Json moved =
      write_instance_config(l, "USA", Profile::Test, 0, make_placement("dive.usa.example", "0.0.0.0"));
  EXPECT_EQ(moved["issuer"], "https://dive.usa.example:8443/realms/dive-v3-broker-usa");
  EXPECT_EQ(moved["bind"], "0.0.0.0");
}

TEST(InstanceConfig, SecretsAreGeneratedOnceWithMode600) {
  TempDir home;
  auto p = Layout{home.path()}.instance("FRA");
  Json a = ensure_secrets(p, BlacklistAccess{"spoke", "hub-blacklist"});
  Json b = ensure_secrets(p, BlacklistAccess{"spoke", "hub-blacklist"});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a["blacklist_redis_password"], "hub-blacklist");
  EXPECT_EQ(a["blacklist_redis_user"], "spoke");
  EXPECT_FALSE(a.contains("blacklist_spoke_password")) << "only a store's host hands out spoke access";
  EXPECT_GE(a["postgres_password"].get<std::string>().size(), 32u);
  EXPECT_NE(a["postgres_password"], a["redis_password"]);
  struct stat st {};
  ASSERT_EQ(::stat(p.secrets_json.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_GE(a["test_user_password"].get<std::string>().size(), 32u);
  EXPECT_EQ(base64url_decode(a["idp_key_encryption_key"].get<std::string>())->size(), 32u);
  EXPECT_TRUE(a["clients"]["dive-api"]["secret"].is_string());
  EXPECT_NE(a["clients"]["dive-api"]["secret"], a["clients"]["dive-kas"]["secret"]);
  EXPECT_FALSE(a["clients"].contains("dive-cli")) << "public clients have no secret";
  Json c = ensure_secrets(p, BlacklistAccess{"", "rotated"});
  EXPECT_EQ(c["blacklist_redis_password"], "rotated");
  EXPECT_FALSE(c.contains("blacklist_redis_user"));
  EXPECT_EQ(c["postgres_password"], a["postgres_password"]);
}

TEST(InstanceConfig, EachServiceGetsOnlyItsOwnSecrets) {
  TempDir home;
  auto p = Layout{home.path()}.instance("USA");
  Json s = ensure_secrets(p, std::nullopt);
  EXPECT_FALSE(s["blacklist_spoke_password"].get<std::string>().empty()) << "the hub hands spokes a user";
  for (const std::string svc : {"api", "idp", "pdp", "kas"}) {
    Json own = Json::parse(read_file(p.dir / "secrets" / (svc + ".json")));
    EXPECT_EQ(own, service_secrets(svc, s));
    EXPECT_EQ(own["database_user"], "dive_" + svc);
    EXPECT_EQ(own["postgres_password"], s["database_roles"][svc]);
    EXPECT_NE(own["postgres_password"], s["postgres_password"]) << "never the cluster owner's";
    EXPECT_EQ(own.contains("kas_key_encryption_key"), svc == "kas") << svc;
    EXPECT_EQ(own.contains("idp_key_encryption_key"), svc == "idp") << svc;
    EXPECT_EQ(own.contains("clients"), svc == "idp") << svc;
    EXPECT_EQ(own.contains("blacklist_redis_password"), svc != "pdp") << svc;
    EXPECT_FALSE(own.contains("blacklist_spoke_password")) << svc;
    struct stat st {};
    ASSERT_EQ(::stat((p.dir / "secrets" / (svc + ".json")).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  // The web console holds no secret yet: a file of its own (it cannot read the shared one), empty.
  EXPECT_EQ(Json::parse(read_file(p.dir / "secrets" / "web.json")), Json::object());
  EXPECT_EQ(service_secrets("web", s), Json::object());
}

TEST(InstanceConfig, CorruptSecretsAreNeverSilentlyReplaced) {
  TempDir home;
  auto p = Layout{home.path()}.instance("FRA");
  ensure_dir(p.dir);
  write_file_atomic(p.secrets_json, "{broken", 0600);
  EXPECT_THROW(ensure_secrets(p, std::nullopt), std::runtime_error);
  EXPECT_EQ(read_file(p.secrets_json), "{broken");
}

TEST(InstanceConfig, MergeJson) {
  Json m = merge_json(Json::parse(R"({"a":{"b":1,"c":2},"d":3})"), Json::parse(R"({"a":{"b":9},"e":4})"));
  EXPECT_EQ(m, Json::parse(R"({"a":{"b":9,"c":2},"d":3,"e":4})"));
}
