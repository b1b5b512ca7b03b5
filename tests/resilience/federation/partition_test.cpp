// The network path between the spoke and its hub fails while both instances run: black-holed (bytes dropped,
// nothing answers) or silently partitioned (half_open: nothing read, nothing written, no FIN, no RST). The
// path is the FaultProxy every exchange of the spoke's federation agent crosses (heartbeats, trust bundle,
// revocation relay). Both sides keep serving their own users; the hub sees the spoke stale and stops calling
// it; the spoke is degraded; and a logout made on either side during the partition is enforced on the other
// once it heals (docs/REVOCATION.md, the relay of docs/FEDERATION.md).
#include <gtest/gtest.h>

#include "federation_fixture.hpp"
#include "servers.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {
constexpr Ms kSearchBound = 4000ms;  // the 3 s federated search deadline and a margin
// A heartbeat that hangs ends at the agent's 3 s request timeout; the spoke is stale after 3 missed 1 s
// intervals: both known within this.
constexpr Ms kNoticeBound = 10000ms;

}  // namespace

TEST_F(FederationResilience, TheSpokesLinkToItsHubBlackholedThenHealed) {
  const Ms bound = 15s;
  auto usa_load = start_load("USA");
  auto fra_load = start_load("FRA");
  ASSERT_TRUE(usa_load && fra_load);
  usa_load->fault_begins();
  fra_load->fault_begins();
  link().blackhole();

  // Each side notices: the spoke is degraded (not unhealthy), the hub sees it stale and stops calling it.
  EXPECT_TRUE(wait_until([&] { return degraded_by(fra(), "hub"); }, kNoticeBound, 200ms))
      << health(fra()).dump();
  EXPECT_NE(health(fra()).value("status", ""), "unhealthy");
  EXPECT_TRUE(wait_until([&] { return registry_entry("FRA").value("stale", false); }, kNoticeBound, 200ms))
      << registry_entry("FRA").dump();
  // The hub's agent reads the registry every 500 ms: from then on its searches skip FRA, naming it stale.
  Json at_hub;
  EXPECT_TRUE(wait_until(
      [&] {
        auto [r, took] = search(usa(), user_token("USA"));
        at_hub = r.body;
        EXPECT_EQ(r.status, 200);
        EXPECT_LT(took, kSearchBound);
        return r.body.value("partial", false) &&
               instance_of(r.body, "FRA").value("error", "").rfind("stale", 0) == 0;
      },
      5s, 100ms))
      << at_hub.dump();
  // Only the agent's link is cut: the spoke still finds the hub's documents (members' URLs, directly).
  auto [at_spoke, spoke_took] = search(fra(), user_token("FRA"));
  EXPECT_EQ(at_spoke.status, 200);
  EXPECT_EQ(instance_of(at_spoke.body, "FRA").value("status", ""), "ok") << at_spoke.body.dump();
  EXPECT_LT(spoke_took, kSearchBound);

  link().pass();
  const int64_t healed = wall_ms();
  usa_load->fault_ends();
  fra_load->fault_ends();
  auto recovered = time_until(
      [&] {
        if (health(fra()).value("status", "") != "healthy" || !spoke_fresh("FRA", healed)) return false;
        auto [r, took] = search(usa(), user_token("USA"));
        return r.status == 200 && !r.body.value("partial", true) &&
               health(usa()).value("status", "") == "healthy";
      },
      bound, 200ms);
  EXPECT_TRUE(recovered) << health(fra()).dump() << "\n" << registry_entry("FRA").dump();
  const auto usa_rec = finish_load(*usa_load, "USA", bound);
  const auto fra_rec = finish_load(*fra_load, "FRA", bound);
  report("hub-link-blackholed", {recovered, usa_rec, fra_rec}, bound);
}

TEST_F(FederationResilience, APartitionHealsAndTheLogoutsMadeDuringItAreEnforcedAcrossIt) {
  const Ms bound = 10s;
  auto usa_load = start_load("USA");
  auto fra_load = start_load("FRA");
  ASSERT_TRUE(usa_load && fra_load);
  // Users the loads do not act as (testuser-c-2), fresh logins: each side's user, accepted on both sides.
  const auto [fra_tok, usa_tok] = fresh_tokens_accepted_everywhere();
  ASSERT_FALSE(fra_tok.empty());

  usa_load->fault_begins();
  fra_load->fault_begins();
  link().half_open();
  ASSERT_TRUE(wait_until([&] { return degraded_by(fra(), "hub"); }, kNoticeBound, 200ms))
      << health(fra()).dump();
  // Each logs its own user out during the partition; each enforces its own logout at once.
  auto out = fra().call("api", "POST", "/api/auth/logout", fra_tok);
  ASSERT_EQ(out.status, 200) << out.body.dump();
  out = usa().call("api", "POST", "/api/auth/logout", usa_tok);
  ASSERT_EQ(out.status, 200) << out.body.dump();
  EXPECT_EQ(me(fra(), fra_tok), 401);
  EXPECT_EQ(me(usa(), usa_tok), 401);
  // The spoke's relay has tried and failed (its revocation cannot reach the hub's store yet).
  EXPECT_TRUE(
      wait_until([&] { return agent_status(fra()).value("errors", Json::object()).contains("revocations"); },
                 15s, 200ms))
      << agent_status(fra()).dump();
  std::printf("[ INFO ] during the partition: FRA's logout at USA -> %d, USA's logout at FRA -> %d\n",
              me(usa(), fra_tok), me(fra(), usa_tok));

  link().pass();
  usa_load->fault_ends();
  fra_load->fault_ends();
  auto recovered =
      time_until([&] { return me(usa(), fra_tok) == 401 && me(fra(), usa_tok) == 401; }, bound, 100ms);
  EXPECT_TRUE(recovered) << "FRA's logout at USA: " << me(usa(), fra_tok)
                         << ", USA's logout at FRA: " << me(fra(), usa_tok) << "\n"
                         << agent_status(fra()).dump();
  // Refused for good on both sides, and the link is whole again.
  for (const ApiClient* api : {&usa(), &fra()}) {
    EXPECT_EQ(me(*api, fra_tok), 401);
    EXPECT_EQ(me(*api, usa_tok), 401);
  }
  EXPECT_TRUE(wait_until([&] { return spoke_fresh("FRA", wall_ms() - 1000); }, bound, 200ms));
  const auto usa_rec = finish_load(*usa_load, "USA", bound);
  const auto fra_rec = finish_load(*fra_load, "FRA", bound);
  report("partition-revocations", {recovered, usa_rec, fra_rec}, bound);
}

TEST_F(FederationResilience, TheSpokesLinkToItsHubResetIsNoticedAtOnceThenHealed) {
  const Ms bound = 15s;
  auto fra_load = start_load("FRA");
  ASSERT_TRUE(fra_load);
  fra_load->fault_begins();
  link().reset_all();  // every connection reset, new ones too: failures come at once, no timeout to wait
  auto noticed = time_until([&] { return degraded_by(fra(), "hub"); }, kNoticeBound, 100ms);
  EXPECT_TRUE(noticed) << health(fra()).dump();
  if (noticed)
    std::printf("[ TIMING ] FRA degraded %lld ms after its link was reset\n",
                static_cast<long long>(noticed->count()));
  EXPECT_TRUE(wait_until([&] { return registry_entry("FRA").value("stale", false); }, kNoticeBound, 200ms))
      << registry_entry("FRA").dump();
  auto [own, took] = search(fra(), user_token("FRA"));
  EXPECT_EQ(own.status, 200);
  EXPECT_LT(took, kSearchBound);

  link().pass();
  const int64_t healed = wall_ms();
  fra_load->fault_ends();
  auto recovered =
      time_until([&] { return health(fra()).value("status", "") == "healthy" && spoke_fresh("FRA", healed); },
                 bound, 200ms);
  EXPECT_TRUE(recovered) << health(fra()).dump() << "\n" << registry_entry("FRA").dump();
  const auto fra_rec = finish_load(*fra_load, "FRA", bound);
  report("hub-link-reset", {recovered, fra_rec}, bound);
}

TEST_F(FederationResilience, ASpokeSuspendedWhileCutOffLearnsItWhenTheLinkHeals) {
  const Ms bound = 15s;
  auto usa_load = start_load("USA");
  auto fra_load = start_load("FRA");
  ASSERT_TRUE(usa_load && fra_load);
  const std::string fra_tok = user_token("FRA");
  usa_load->fault_begins();
  fra_load->fault_begins();
  link().blackhole();
  ASSERT_TRUE(wait_until([&] { return degraded_by(fra(), "hub"); }, kNoticeBound, 200ms))
      << health(fra()).dump();

  // The hub's operator suspends FRA: the hub stops trusting it at once, partition or not.
  ASSERT_EQ(hub().run({"hub", "spokes", "suspend", "FRA", "--reason", "resilience: cut off"}).exit_code, 0);
  EXPECT_TRUE(wait_until([&] { return me(usa(), fra_tok) == 401; }, 5s, 100ms));
  auto [r, took] = search(usa(), user_token("USA"));
  EXPECT_EQ(instance_of(r.body, "FRA").value("status", ""), "suspended") << r.body.dump();
  // FRA cannot be told yet; once the link heals, it is (its bundle polls are refused, naming the status).
  link().pass();
  auto told = time_until([&] { return agent_status(fra()).value("registryStatus", "") == "suspended"; },
                         kNoticeBound, 100ms);
  EXPECT_TRUE(told) << agent_status(fra()).dump();
  if (told)
    std::printf("[ TIMING ] FRA learnt its suspension %lld ms after the link healed\n",
                static_cast<long long>(told->count()));

  ASSERT_EQ(hub().run({"hub", "spokes", "reinstate", "FRA"}).exit_code, 0);
  const int64_t reinstated = wall_ms();
  usa_load->fault_ends();
  fra_load->fault_ends();
  auto recovered = time_until(
      [&] {
        if (me(usa(), fra_tok) != 200 || !spoke_fresh("FRA", reinstated)) return false;
        auto [s, t] = search(usa(), user_token("USA"));
        return s.status == 200 && !s.body.value("partial", true) &&
               health(usa()).value("status", "") == "healthy";
      },
      bound, 200ms);
  EXPECT_TRUE(recovered) << me(usa(), fra_tok) << "\n" << registry_entry("FRA").dump();
  EXPECT_EQ(agent_status(fra()).value("registryStatus", ""), "approved");
  const auto usa_rec = finish_load(*usa_load, "USA", bound);
  const auto fra_rec = finish_load(*fra_load, "FRA", bound);
  report("spoke-suspended-while-cut-off", {recovered, usa_rec, fra_rec}, bound);
}
