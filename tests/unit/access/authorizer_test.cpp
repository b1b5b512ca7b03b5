// The PEP's decision step: TTLs by classification, the null cache, and failing closed. (The keys:
// decision_key_test.cpp.)
#include "access/authorizer.hpp"

#include <gtest/gtest.h>

#include "fake_pdp.hpp"

using namespace dive;
using namespace dive::access;
using dive::access::testing::FakePdp;

namespace {

Json input(const std::string& clearance, const std::string& time = "2026-11-27T00:00:00.000Z",
           const std::string& rid = "r1") {
  return Json{{"subject", {{"uniqueID", "u"}, {"clearance", clearance}}},
              {"action", {{"operation", "read"}}},
              {"resource", {{"resourceId", "doc-1"}, {"classification", "SECRET"}}},
              {"context", {{"currentTime", time}, {"requestId", rid}, {"acr", "1"}, {"tenant", "USA"}}}};
}

struct AuthzRig {
  FakeClock clock;
  FakePdp pdp;
  resilience::CircuitBreaker breaker{"pdp", resilience::BreakerConfig{3, Millis(5000), 1, 0}, clock};
  PdpClient client{pdp, breaker, "https://pdp.test"};
  TtlDecisionCache cache{clock};
  Authorizer authorizer{client, cache};
};

}  // namespace

TEST(DecisionCache, TtlFollowsTheClassification) {
  EXPECT_EQ(DecisionCache::ttl_for("TOP_SECRET"), Millis(15000));
  EXPECT_EQ(DecisionCache::ttl_for("SECRET"), Millis(30000));
  EXPECT_EQ(DecisionCache::ttl_for("CONFIDENTIAL"), Millis(60000));
  EXPECT_EQ(DecisionCache::ttl_for("RESTRICTED"), Millis(300000));
  EXPECT_EQ(DecisionCache::ttl_for("UNCLASSIFIED"), Millis(300000));
  EXPECT_EQ(DecisionCache::ttl_for("SOMETHING"), Millis(15000)) << "unknown: the shortest";
  FakeClock clock;
  TtlDecisionCache cache(clock);
  const auto k = DecisionKey::of(input("SECRET"));
  cache.put(k, std::make_shared<Decision>(), "SECRET");
  clock.advance(std::chrono::seconds(29));
  EXPECT_TRUE(cache.get(k));
  clock.advance(std::chrono::seconds(2));
  EXPECT_FALSE(cache.get(k));
}

TEST(DecisionCache, AtCapacityExpiredEntriesGoFirstThenAQuarterOfTheRest) {
  FakeClock clock;
  TtlDecisionCache cache(clock, 8);
  auto key = [](int i) { return DecisionKey::of(input("L" + std::to_string(i))); };
  for (int i = 0; i < 4; ++i) cache.put(key(i), std::make_shared<Decision>(), "TOP_SECRET");  // 15 s
  clock.advance(std::chrono::seconds(10));
  for (int i = 4; i < 8; ++i) cache.put(key(i), std::make_shared<Decision>(), "SECRET");  // 30 s
  EXPECT_EQ(cache.size(), 8u);
  clock.advance(std::chrono::seconds(6));  // the first four have expired
  cache.put(key(8), std::make_shared<Decision>(), "SECRET");
  EXPECT_EQ(cache.size(), 5u) << "the expired four dropped, nothing live";
  for (int i = 4; i <= 8; ++i) EXPECT_TRUE(cache.get(key(i))) << i;
  for (int i = 9; i < 12; ++i) cache.put(key(i), std::make_shared<Decision>(), "SECRET");
  EXPECT_EQ(cache.size(), 8u);
  cache.put(key(12), std::make_shared<Decision>(), "SECRET");
  EXPECT_EQ(cache.size(), 7u) << "full of live entries: down to three quarters, then the new one";
  EXPECT_TRUE(cache.get(key(12)));
}

TEST(NullDecisionCache, KeepsNothingSoEveryDecisionComesFromThePdp) {
  NullDecisionCache none;
  const auto k = DecisionKey::of(input("SECRET"));
  none.set_revision("rev-1");
  none.put(k, std::make_shared<Decision>(), "UNCLASSIFIED");
  EXPECT_FALSE(none.get(k));
  EXPECT_EQ(none.size(), 0u);

  FakeClock clock;
  FakePdp pdp;
  resilience::CircuitBreaker breaker{"pdp", resilience::BreakerConfig{3, Millis(5000), 1, 0}, clock};
  PdpClient client{pdp, breaker, "https://pdp.test"};
  Authorizer fresh{client, none};
  EXPECT_FALSE(fresh.authorize(input("SECRET"), "SECRET").cached);
  EXPECT_FALSE(fresh.authorize(input("SECRET"), "SECRET").cached);
  auto batch = fresh.authorize_batch({input("SECRET"), input("SECRET")}, {"SECRET", "SECRET"});
  EXPECT_FALSE(batch[0].cached || batch[1].cached);
  EXPECT_EQ(pdp.calls, 3) << "two single calls and one batch, each to the pdp";
  pdp.down = true;
  EXPECT_THROW(fresh.authorize(input("SECRET"), "SECRET"), PdpUnavailable) << "fails closed";
}

TEST(Authorizer, CachesTheIdenticalQuestionAndAsksAgainForAnotherOne) {
  AuthzRig r;
  auto a = r.authorizer.authorize(input("SECRET"), "SECRET");
  EXPECT_TRUE(a.decision->allow);
  EXPECT_FALSE(a.cached);
  auto b = r.authorizer.authorize(input("SECRET", "2026-11-27T00:00:05.000Z", "r9"), "SECRET");
  EXPECT_TRUE(b.cached);
  EXPECT_EQ(r.pdp.calls, 1);
  r.authorizer.authorize(input("TOP_SECRET"), "SECRET");
  EXPECT_EQ(r.pdp.calls, 2);
}

TEST(Authorizer, APolicyBundleChangeEndsEveryCachedDecisionAtOnce) {
  AuthzRig r;
  r.cache.set_revision("rev-1");
  EXPECT_TRUE(r.authorizer.authorize(input("SECRET"), "SECRET").decision->allow);
  EXPECT_TRUE(r.authorizer.authorize(input("SECRET"), "SECRET").cached);
  // The operator publishes a bundle that denies; the instance's active revision changes before the pdp
  // has switched: the pdp's answers under the old data are not kept, and the cached allow is gone.
  r.pdp.rule = [](const Json&) { return std::pair<bool, std::string>{false, "Insufficient clearance"}; };
  r.cache.set_revision("rev-2");
  auto during = r.authorizer.authorize(input("SECRET"), "SECRET");
  EXPECT_FALSE(during.cached) << "a decision of the previous bundle is not reused";
  EXPECT_FALSE(r.authorizer.authorize(input("SECRET"), "SECRET").cached) << "rev-1 answers are not stored";
  r.pdp.revision = "rev-2";  // the pdp serves the new bundle
  EXPECT_FALSE(r.authorizer.authorize(input("SECRET"), "SECRET").decision->allow);
  EXPECT_TRUE(r.authorizer.authorize(input("SECRET"), "SECRET").cached);
  EXPECT_EQ(r.pdp.calls, 4);
}

TEST(Authorizer, FailsClosedWithoutAnUnexpiredCachedDecision) {
  AuthzRig r;
  r.pdp.rule = [](const Json&) { return std::pair<bool, std::string>{false, "Insufficient clearance"}; };
  EXPECT_FALSE(r.authorizer.authorize(input("SECRET"), "TOP_SECRET").decision->allow);
  r.pdp.down = true;
  // The cached denial still answers (it is unexpired) ...
  auto cached = r.authorizer.authorize(input("SECRET"), "TOP_SECRET");
  EXPECT_TRUE(cached.cached);
  EXPECT_FALSE(cached.decision->allow);
  // ... an uncached question gets no answer, never an allow ...
  EXPECT_THROW(r.authorizer.authorize(input("CONFIDENTIAL"), "TOP_SECRET"), PdpUnavailable);
  // ... and after the TTL the cached one is gone too.
  r.clock.advance(std::chrono::seconds(16));
  EXPECT_THROW(r.authorizer.authorize(input("SECRET"), "TOP_SECRET"), PdpUnavailable);
}

TEST(Authorizer, TheBreakerOpensAfterItsThresholdAndThenNoCallIsMade) {
  AuthzRig r;
  r.pdp.down = true;
  for (int i = 0; i < 3; ++i)
    EXPECT_THROW(r.authorizer.authorize(input("S" + std::to_string(i)), "SECRET"), PdpUnavailable);
  EXPECT_EQ(r.pdp.calls, 3);
  EXPECT_THROW(r.authorizer.authorize(input("S9"), "SECRET"), PdpUnavailable);
  EXPECT_EQ(r.pdp.calls, 3) << "open: rejected without a call";
  r.pdp.down = false;
  r.clock.advance(std::chrono::seconds(6));
  EXPECT_TRUE(r.authorizer.authorize(input("S9"), "SECRET").decision->allow);
  EXPECT_EQ(r.breaker.state(), resilience::BreakerState::Closed);
}

TEST(Authorizer, AnErrorStatusOrAMalformedAnswerIsNoDecision) {
  AuthzRig r;
  r.pdp.status = 500;
  EXPECT_THROW(r.authorizer.authorize(input("SECRET"), "SECRET"), PdpUnavailable);
  r.pdp.status = 200;
  EXPECT_THROW(decision_from_result(Json{{"allow", "yes"}}), PdpUnavailable);
  EXPECT_THROW(decision_from_result(Json::array()), PdpUnavailable);
}

TEST(Authorizer, BatchAsksOnlyForWhatTheCacheLacksAndKeepsTheOrder) {
  AuthzRig r;
  r.pdp.rule = [](const Json& in) {
    bool allow = in["subject"]["clearance"] != "UNCLASSIFIED";
    return std::pair<bool, std::string>{allow, allow ? "ok" : "no"};
  };
  r.authorizer.authorize(input("SECRET"), "SECRET");
  auto out = r.authorizer.authorize_batch({input("UNCLASSIFIED"), input("SECRET"), input("TOP_SECRET")},
                                          {"SECRET", "SECRET", "SECRET"});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_FALSE(out[0].decision->allow);
  EXPECT_TRUE(out[1].decision->allow);
  EXPECT_TRUE(out[1].cached);
  EXPECT_TRUE(out[2].decision->allow);
  EXPECT_EQ(r.pdp.calls, 2) << "one single call, one batch call";
  r.pdp.down = true;
  EXPECT_THROW(r.authorizer.authorize_batch({input("RESTRICTED")}, {"SECRET"}), PdpUnavailable);
}

TEST(Authorizer, KeyedCallsBuildAnInputOnlyWhenTheCacheCannotAnswer) {
  AuthzRig r;
  int built = 0;
  auto make = [&](size_t) {
    ++built;
    return input("SECRET");
  };
  const auto k = DecisionKey::of(input("SECRET"));
  const auto other = DecisionKey::of(input("OTHER"));
  auto first = r.authorizer.authorize_batch({k, other}, {"SECRET", "SECRET"}, make);
  EXPECT_EQ(built, 2);
  EXPECT_EQ(r.pdp.calls, 1) << "one batch";
  auto again = r.authorizer.authorize_batch({k, other}, {"SECRET", "SECRET"}, make);
  EXPECT_EQ(built, 2) << "both cached: nothing built";
  EXPECT_TRUE(again[0].cached && again[1].cached);
  // The single call shares the cache with the input-taking form (same key for the same input).
  EXPECT_TRUE(r.authorizer.authorize(input("SECRET", "2030-01-01T00:00:00Z", "r7"), "SECRET").cached);
  const auto third = DecisionKey::of(input("THIRD"));
  auto one = r.authorizer.authorize(third, "SECRET", [&] { return make(0); });
  EXPECT_FALSE(one.cached);
  EXPECT_EQ(built, 3);
  r.pdp.down = true;
  EXPECT_THROW(r.authorizer.authorize(DecisionKey::of(input("FOURTH")), "SECRET", [&] { return make(0); }),
               PdpUnavailable);
  EXPECT_TRUE(r.authorizer.authorize(third, "SECRET", [&] { return make(0); }).cached);
}
