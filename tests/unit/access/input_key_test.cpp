// access::InputKey must give exactly DecisionCache::key_of(build_input(...)) — the key of the whole input
// minus its time and request id — for every shape of token and resource, or a cached decision could
// answer a different question.
#include <gtest/gtest.h>

#include "access/decision_cache.hpp"
#include "access/pdp_input.hpp"

using namespace dive;
using namespace dive::access;

namespace {

identity::VerifiedToken token_with(Json claims, std::string acr, std::vector<std::string> amr,
                                   int64_t auth_time) {
  identity::VerifiedToken t;
  t.claims = std::move(claims);
  t.issuer = "https://localhost:8443/realms/dive-v3-broker-usa";
  t.subject = "s";
  t.acr = std::move(acr);
  t.amr = std::move(amr);
  t.auth_time = auth_time;
  return t;
}

std::vector<identity::VerifiedToken> tokens() {
  return {
      token_with(Json{{"uniqueID", "testuser-usa-5"},
                      {"clearance", "TOP_SECRET"},
                      {"countryOfAffiliation", "USA"},
                      {"acpCOI", {"NATO", "FVEY"}},
                      {"organizationType", "GOV"},
                      {"dutyOrg", "DoD"},
                      {"orgUnit", "J2"}},
                 "1", {"pwd", "otp"}, 1795760000),
      token_with(Json{{"uniqueID", "x\"y\\z\u00e9"},
                      {"clearance", "GEHEIM"},
                      {"clearanceCountry", "DEU"},
                      {"clearanceOriginal", "GEHEIM"},
                      {"acpCOI", nullptr}},
                 "0", {"pwd"}, 0),
      token_with(Json::object(), "", {}, 0),  // every optional claim absent
  };
}

std::vector<Json> resources() {
  return {Json{{"resourceId", "doc-USA-1"},
               {"classification", "SECRET"},
               {"releasabilityTo", {"USA", "GBR"}},
               {"COI", {"FVEY"}},
               {"coiOperator", "ALL"},
               {"encrypted", true},
               {"ztdf", {{"integrityValidated", true}, {"policyBindingValid", true}}}},
          Json::object(), Json{{"title", "ünïcode \"quoted\""}, {"n", 1.5}, {"big", 12345678901234LL}}};
}

}  // namespace

TEST(InputKey, EqualsTheKeyOfTheBuiltInputForEveryTokenResourceAndOperation) {
  InputContext ctx{"USA", "req-1"};
  for (const auto& t : tokens())
    for (const char* op : {"read", "decrypt", "upload"})
      for (const auto& r : resources()) {
        const std::string expected = DecisionCache::key_of(build_input(t, op, r, ctx));
        EXPECT_EQ(InputKey(t, op, ctx).key_for(r.dump()), expected) << op << " " << r.dump();
      }
}

TEST(InputKey, IgnoresOnlyTimeAndRequestIdLikeTheCache) {
  auto t = tokens()[0];
  auto r = resources()[0].dump();
  InputContext a{"USA", "req-1"};
  InputContext b{"USA", "req-2", a.now + std::chrono::seconds(30)};
  EXPECT_EQ(InputKey(t, "read", a).key_for(r), InputKey(t, "read", b).key_for(r));
  EXPECT_NE(InputKey(t, "read", a).key_for(r), InputKey(t, "read", InputContext{"GBR", "req-1"}).key_for(r));
  EXPECT_NE(InputKey(t, "read", a).key_for(r), InputKey(t, "decrypt", a).key_for(r));
  EXPECT_NE(InputKey(t, "read", a).key_for(r), InputKey(tokens()[1], "read", a).key_for(r));
  EXPECT_NE(InputKey(t, "read", a).key_for(r), InputKey(t, "read", a).key_for(resources()[1].dump()));
  auto no_otp = t;
  no_otp.acr = "0";
  no_otp.amr = {"pwd"};
  EXPECT_NE(InputKey(t, "read", a).key_for(r), InputKey(no_otp, "read", a).key_for(r));
}
