// The spoke's api loses its revocation store: a standalone spoke keeps the revocations in a blacklist Redis
// of its own (the hub's is on another machine), and the path from its api to it is black-holed. The api is
// degraded (blacklistRedis down, its breaker open), never unhealthy, and keeps serving from its in-memory
// mirror within every deadline. Logouts made meanwhile — one at the spoke (its own user: refused there at
// once, queued in its outbox) and one at the hub (relayed to the spoke, which cannot store it yet) — are
// enforced on both sides within the bound once the path heals (docs/REVOCATION.md, "Failure behaviour").
#include <gtest/gtest.h>

#include "federation_fixture.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {
std::string check_status(const Json& health, const std::string& check) {
  return health.value("checks", Json::object()).value(check, Json::object()).value("status", "");
}
}  // namespace

TEST_F(FederationResilience, TheSpokesRevocationStoreUnreachableAndTheLogoutsMadeMeanwhile) {
  const Ms bound = 20s;
  auto fra_load = start_load("FRA");
  ASSERT_TRUE(fra_load);
  // Users the load does not act as, fresh logins, accepted on both sides.
  const auto [fra_tok, usa_tok] = fresh_tokens_accepted_everywhere();
  ASSERT_FALSE(fra_tok.empty());

  fra_load->fault_begins();
  store().blackhole();
  Json h;
  EXPECT_TRUE(wait_until(
      [&] {
        h = health(fra());
        EXPECT_NE(h.value("status", ""), "unhealthy") << h.dump();
        return h.value("status", "") == "degraded" && check_status(h, "blacklistRedis") == "down";
      },
      15s, 200ms))
      << h.dump();
  // A logout at the spoke: accepted and enforced there at once, its propagation deferred.
  auto out = fra().call("api", "POST", "/api/auth/logout", fra_tok);
  ASSERT_EQ(out.status, 200) << out.body.dump();
  const std::string propagation = out.body.value("details", Json::object()).value("propagation", "");
  EXPECT_TRUE(propagation == "queued" || propagation == "held") << out.body.dump();
  EXPECT_EQ(me(fra(), fra_tok), 401);
  // A logout at the hub, made while the spoke cannot store what the relay brings.
  out = usa().call("api", "POST", "/api/auth/logout", usa_tok);
  ASSERT_EQ(out.status, 200) << out.body.dump();
  EXPECT_EQ(me(usa(), usa_tok), 401);
  // Its own documents are still served, in time (the load checks every answer too).
  auto t0 = std::chrono::steady_clock::now();
  auto read = fra().call("api", "GET", "/api/resources/" + brief("FRA"), user_token("FRA"));
  EXPECT_EQ(read.status, 200) << read.body.dump();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  std::printf("[ INFO ] during the outage: FRA's logout at USA -> %d, USA's logout at FRA -> %d (%s)\n",
              me(usa(), fra_tok), me(fra(), usa_tok), propagation.c_str());

  store().pass();
  fra_load->fault_ends();
  auto recovered = time_until(
      [&] {
        return me(usa(), fra_tok) == 401 && me(fra(), usa_tok) == 401 &&
               health(fra()).value("status", "") == "healthy";
      },
      bound, 200ms);
  EXPECT_TRUE(recovered) << "FRA's logout at USA: " << me(usa(), fra_tok)
                         << ", USA's logout at FRA: " << me(fra(), usa_tok) << "\n"
                         << health(fra()).dump() << "\n"
                         << agent_status(fra()).dump();
  for (const ApiClient* api : {&usa(), &fra()}) {
    EXPECT_EQ(me(*api, fra_tok), 401);
    EXPECT_EQ(me(*api, usa_tok), 401);
  }
  const auto fra_rec = finish_load(*fra_load, "FRA", bound);
  report("spoke-revocation-store-unreachable", {recovered, fra_rec}, bound);
}
