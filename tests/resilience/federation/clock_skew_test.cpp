// A partner whose clock runs two minutes ahead: its idp's tokens say they were issued (iat, iat_ms) two
// minutes from now. Such a token would also slip past every logout made in those two minutes (a user
// revocation refuses tokens issued before it), so it must be refused: 401 at the other instance's api and kas
// (and at its own), with the reason in the api's log next to the request id, never a 200. A token from the
// same key with the right time is accepted, and so is one within the validators' 30 s skew.
//
// The tokens are signed with the partner's real realm key, read the way its idp reads it: the active row of
// idp_signing_keys in the partner's database, decrypted with the key-encryption key of its secrets.json.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <regex>

#include "common/random.hpp"
#include "federation_fixture.hpp"
#include "identity/idp/idp_config.hpp"
#include "identity/idp/key_store.hpp"
#include "identity/jws.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/layout.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

identity::SigningKey realm_key(const DiveCli& cli, const std::string& code) {
  auto paths = orch::Layout{cli.home()}.instance(code);
  const std::string kek =
      identity::idp::decode_kek(orch::read_secrets(paths).value("idp_key_encryption_key", ""));
  pqxx::connection c(orch::instance_db_conninfo(paths));
  auto set = identity::idp::load_key_set(c, kek, 3600);
  if (!set.active) throw std::runtime_error(code + " has no active realm key");
  return *set.active;
}

// `real`'s claims (a token the partner's idp issued), moved `ahead` seconds into the future (or the past),
// with a jti of its own, signed with `key` under the same header.
std::string shifted(const std::string& real, std::chrono::seconds ahead, const identity::SigningKey& key) {
  auto jws = identity::parse_compact(real);
  Json claims = Json::parse(jws.payload);
  const int64_t now_ms =
      std::chrono::duration_cast<Ms>(std::chrono::system_clock::now().time_since_epoch()).count();
  const int64_t iat_ms = now_ms + std::chrono::duration_cast<Ms>(ahead).count();
  const int64_t lifetime = claims.value("exp", int64_t{0}) - claims.value("iat", int64_t{0});
  claims["iat_ms"] = iat_ms;
  claims["iat"] = iat_ms / 1000;
  if (claims.contains("nbf")) claims["nbf"] = iat_ms / 1000;  // our idp sets none
  claims["auth_time"] = iat_ms / 1000;
  claims["exp"] = iat_ms / 1000 + lifetime;
  claims["jti"] = secure_token(18);
  Json header = jws.header;
  header.erase("alg");
  header.erase("kid");
  return identity::sign_claims(claims, key, header);
}

}  // namespace

TEST_F(FederationResilience, APartnerWhoseClockRunsTwoMinutesAheadIsRefusedWithTheReason) {
  const Ms bound = 5s;
  auto load = start_load("USA");
  ASSERT_TRUE(load);
  const auto key = realm_key(spoke(), "FRA");
  const std::string real = fra().login("testuser-fra-2").value("access_token", "");
  ASSERT_FALSE(real.empty());
  ASSERT_EQ(usa().call("api", "GET", "/api/auth/me", shifted(real, 0s, key)).status, 200)
      << "a token signed here with the partner's key and the right time must be accepted";

  load->fault_begins();
  const std::string ahead = shifted(real, 120s, key);
  for (const ApiClient* api : {&usa(), &fra()}) {
    const std::string code = api == &usa() ? "USA" : "FRA";
    auto r = api->call("api", "GET", "/api/auth/me", ahead);
    EXPECT_EQ(r.status, 401) << code << ": " << r.body.dump();
    const std::string request_id = r.body.value("requestId", "");
    ASSERT_FALSE(request_id.empty()) << r.body.dump();
    // The reason, in the api's log with the request id: the token's time is in the future.
    std::string line;
    EXPECT_TRUE(wait_until(
        [&] {
          const std::string log = log_of(code == "USA" ? hub() : spoke(), code, "api");
          auto at = log.find("request " + request_id);
          if (at == std::string::npos) return false;
          line = log.substr(at, log.find('\n', at) - at);
          return true;
        },
        5s, 100ms))
        << code << ": no log line for request " << request_id;
    EXPECT_NE(line.find("not_yet_valid"), std::string::npos) << line;
    EXPECT_TRUE(std::regex_search(line, std::regex("iat is 1[12][0-9] s in the future"))) << line;
    std::printf("[ INFO ] %s api: %s\n", code.c_str(), line.c_str());
    // The other instance's kas refuses it before anything else.
    auto kas = api->call("kas", "POST", "/request-key", ahead, Json::object());
    EXPECT_EQ(kas.status, 401) << code << " kas: " << kas.body.dump();
    // And so does every document route.
    auto read = api->call("api", "GET", "/api/resources/" + brief("FRA"), ahead);
    EXPECT_EQ(read.status, 401) << code << ": " << read.body.dump();
  }
  // Within the validators' 30 s skew a partner's clock is tolerated.
  EXPECT_EQ(usa().call("api", "GET", "/api/auth/me", shifted(real, 20s, key)).status, 200);

  // The partner's clock put right: its next token is accepted at once.
  load->fault_ends();
  auto recovered = time_until(
      [&] { return usa().call("api", "GET", "/api/auth/me", shifted(real, 0s, key)).status == 200; }, bound,
      100ms);
  EXPECT_TRUE(recovered);
  const auto usa_rec = finish_load(*load, "USA", bound);
  report("partner-clock-ahead", {recovered, usa_rec}, bound);
}
