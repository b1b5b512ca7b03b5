// access::DecisionKey, the only builder of decision-cache keys: the key of the whole input minus its time and
// request id, the same whether taken of a built input or of one request's parts, for every shape of token
// and resource — or a cached decision could answer a different question.
#include "access/decision_key.hpp"

#include <gtest/gtest.h>

#include "common/encoding.hpp"

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

TEST(DecisionKey, IsTheHashOfTheInputsTextWithoutTimeAndRequestId) {
  const Json input{
      {"subject", {{"uniqueID", "u"}, {"clearance", "SECRET"}}},
      {"action", {{"operation", "read"}}},
      {"resource", {{"resourceId", "doc-1"}, {"classification", "SECRET"}}},
      {"context",
       {{"currentTime", "2026-11-27T00:00:00.000Z"}, {"requestId", "r1"}, {"acr", "1"}, {"tenant", "USA"}}}};
  EXPECT_EQ(DecisionKey::of(input).hex(),
            sha256_hex(R"({"action":{"operation":"read"},"context":{"acr":"1","tenant":"USA"},)"
                       R"("resource":{"classification":"SECRET","resourceId":"doc-1"},)"
                       R"("subject":{"clearance":"SECRET","uniqueID":"u"}})"));
}

TEST(DecisionKey, TheBuilderGivesTheKeyOfTheBuiltInputForEveryTokenResourceAndOperation) {
  InputContext ctx{"USA", "req-1"};
  for (const auto& t : tokens())
    for (const char* op : {"read", "decrypt", "upload"})
      for (const auto& r : resources()) {
        const auto expected = DecisionKey::of(build_input(t, op, r, ctx));
        EXPECT_EQ(DecisionKey::Builder(t, op, ctx).for_resource(r.dump()), expected) << op << " " << r.dump();
      }
}

TEST(DecisionKey, IgnoresOnlyTimeAndRequestId) {
  auto t = tokens()[0];
  auto r = resources()[0].dump();
  InputContext a{"USA", "req-1"};
  InputContext b{"USA", "req-2", a.now + std::chrono::seconds(30)};
  auto key = [](const identity::VerifiedToken& tok, const char* op, const InputContext& c,
                const std::string& res) { return DecisionKey::Builder(tok, op, c).for_resource(res); };
  EXPECT_EQ(key(t, "read", a, r), key(t, "read", b, r));
  EXPECT_NE(key(t, "read", a, r), key(t, "read", InputContext{"GBR", "req-1"}, r));
  EXPECT_NE(key(t, "read", a, r), key(t, "decrypt", a, r));
  EXPECT_NE(key(t, "read", a, r), key(tokens()[1], "read", a, r));
  EXPECT_NE(key(t, "read", a, r), key(t, "read", a, resources()[1].dump()));
  auto no_otp = t;
  no_otp.acr = "0";
  no_otp.amr = {"pwd"};
  EXPECT_NE(key(t, "read", a, r), key(no_otp, "read", a, r));
  Json built = build_input(t, "read", resources()[0], a);
  Json later = build_input(t, "read", resources()[0], b);
  EXPECT_NE(built, later);
  EXPECT_EQ(DecisionKey::of(built), DecisionKey::of(later));
}

TEST(DecisionKey, IsTakenOnlyOfAnInputAsBuildInputMakesIt) {
  const Json good = build_input(tokens()[0], "read", resources()[0], InputContext{"USA", "r"});
  EXPECT_NO_THROW(DecisionKey::of(good));
  Json extra = good;
  extra["debug"] = true;
  Json missing = good;
  missing.erase("subject");
  Json flat_context = good;
  flat_context["context"] = "USA";
  for (const Json& bad : {extra, missing, flat_context, Json::array(), Json("read")})
    EXPECT_THROW(DecisionKey::of(bad), std::invalid_argument) << bad.dump();
}
