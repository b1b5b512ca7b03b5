// The PEP's decision step: cache keys, TTLs by classification, and failing closed.
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
  DecisionCache cache{clock};
  Authorizer authorizer{client, cache, true};
};

}  // namespace

TEST(DecisionCache, KeyIgnoresOnlyTheTimeAndTheRequestId) {
  EXPECT_EQ(DecisionCache::key_of(input("SECRET")),
            DecisionCache::key_of(input("SECRET", "2030-01-01T00:00:00Z", "r2")));
  EXPECT_NE(DecisionCache::key_of(input("SECRET")), DecisionCache::key_of(input("TOP_SECRET")));
  Json other_acr = input("SECRET");
  other_acr["context"]["acr"] = "0";
  EXPECT_NE(DecisionCache::key_of(input("SECRET")), DecisionCache::key_of(other_acr));
  Json other_op = input("SECRET");
  other_op["action"]["operation"] = "upload";
  EXPECT_NE(DecisionCache::key_of(input("SECRET")), DecisionCache::key_of(other_op));
}

TEST(DecisionCache, TtlFollowsTheClassification) {
  EXPECT_EQ(DecisionCache::ttl_for("TOP_SECRET"), Millis(15000));
  EXPECT_EQ(DecisionCache::ttl_for("SECRET"), Millis(30000));
  EXPECT_EQ(DecisionCache::ttl_for("CONFIDENTIAL"), Millis(60000));
  EXPECT_EQ(DecisionCache::ttl_for("RESTRICTED"), Millis(300000));
  EXPECT_EQ(DecisionCache::ttl_for("UNCLASSIFIED"), Millis(300000));
  EXPECT_EQ(DecisionCache::ttl_for("SOMETHING"), Millis(15000)) << "unknown: the shortest";
  FakeClock clock;
  DecisionCache cache(clock);
  cache.put("k", std::make_shared<Decision>(), "SECRET");
  clock.advance(std::chrono::seconds(29));
  EXPECT_TRUE(cache.get("k"));
  clock.advance(std::chrono::seconds(2));
  EXPECT_FALSE(cache.get("k"));
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
  const std::string k = DecisionCache::key_of(input("SECRET"));
  auto first = r.authorizer.authorize_batch({k, "other-key"}, {"SECRET", "SECRET"}, make);
  EXPECT_EQ(built, 2);
  EXPECT_EQ(r.pdp.calls, 1) << "one batch";
  auto again = r.authorizer.authorize_batch({k, "other-key"}, {"SECRET", "SECRET"}, make);
  EXPECT_EQ(built, 2) << "both cached: nothing built";
  EXPECT_TRUE(again[0].cached && again[1].cached);
  // The single call shares the cache with the input-taking form (same key for the same input).
  EXPECT_TRUE(r.authorizer.authorize(input("SECRET", "2030-01-01T00:00:00Z", "r7"), "SECRET").cached);
  auto one = r.authorizer.authorize("third-key", "SECRET", [&] { return make(0); });
  EXPECT_FALSE(one.cached);
  EXPECT_EQ(built, 3);
  r.pdp.down = true;
  EXPECT_THROW(r.authorizer.authorize("fourth-key", "SECRET", [&] { return make(0); }), PdpUnavailable);
  EXPECT_TRUE(r.authorizer.authorize("third-key", "SECRET", [&] { return make(0); }).cached);
}
