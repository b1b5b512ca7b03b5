// The three deliberate differences of docs/POLICY.md, each shown with both settings, switched through the
// bundle's policy_options (as operators do) and through evaluate()'s explicit options.
#include <gtest/gtest.h>

#include "policy_test_util.hpp"

using namespace dive;
using namespace dive::policy;
using namespace dive::policy::test;

namespace {

Json decide_with(const Json& input, const Json& options) {
  return decide(input, *sample_with_options(options));
}

TEST(Differences, DefaultsAreTheSecureSettings) {
  const PolicyOptions o;
  EXPECT_TRUE(o.coi_requires_membership);
  EXPECT_TRUE(o.canonical_clearance_any_country);
  EXPECT_TRUE(o.case_insensitive_clearance_terms);
  EXPECT_EQ(sample_bundle().options, o) << "the sample bundle has no policy_options";
}

TEST(Differences, D1CoiRequiresMembership) {
  Json in = base_input();
  in["subject"]["acpCOI"] = Json::array();
  in["resource"]["COI"] = {"FVEY"};
  const Json on = decide_with(in, {{"coi_requires_membership", true}});
  EXPECT_FALSE(on["allow"].get<bool>());
  EXPECT_EQ(on["reason"], R"(COI operator=ALL: user COI [] does not satisfy resource COI ["FVEY"])");
  EXPECT_FALSE(on["evaluation_details"]["checks"]["coi_satisfied"].get<bool>());
  const Json off = decide_with(in, {{"coi_requires_membership", false}});
  EXPECT_TRUE(off["allow"].get<bool>()) << off["reason"];

  in["subject"].erase("acpCOI");
  in["resource"]["coiOperator"] = "ANY";
  EXPECT_EQ(decide_with(in, {{"coi_requires_membership", true}})["reason"],
            R"(COI operator=ANY: user COI [] does not intersect resource COI ["FVEY"])");
  EXPECT_TRUE(decide_with(in, {{"coi_requires_membership", false}})["allow"].get<bool>());

  // US-ONLY is unaffected: the original already required the exact ["US-ONLY"].
  in["resource"]["COI"] = {"US-ONLY"};
  in["resource"]["releasabilityTo"] = {"USA"};
  for (bool v : {true, false})
    EXPECT_EQ(decide_with(in, {{"coi_requires_membership", v}})["reason"],
              "Resource requires US-ONLY COI. User has COI: []");
}

TEST(Differences, D2CanonicalNamesForEveryCountry) {
  for (const char* country : {"NLD", "TUR", "GRC", "NOR", "HUN", "CZE", "SVK", "SVN", "HRV", "MNE",
                              "MKD", "BGR", "EST", "LVA", "LTU", "LUX", "PRT", "SWE", "FIN", "ISL"}) {
    Json in = base_input();
    in["subject"]["clearance"] = "TOP SECRET";
    in["subject"]["clearanceCountry"] = country;
    const Json on = decide_with(in, {{"canonical_clearance_any_country", true}});
    EXPECT_TRUE(on["allow"].get<bool>()) << country << ": " << on["reason"];
    const Json off = decide_with(in, {{"canonical_clearance_any_country", false}});
    EXPECT_EQ(off["reason"],
              "Invalid clearance level: TOP SECRET not recognized for country " + std::string(country));
  }
  // A national term still wins over the English name where a table has both.
  Json in = base_input();
  in["subject"]["clearance"] = "SECRET";
  in["subject"]["clearanceCountry"] = "ROU";
  EXPECT_TRUE(decide(in)["allow"].get<bool>());
}

TEST(Differences, D3CaseInsensitiveNationalTerms) {
  Json in = base_input();
  in["subject"]["clearance"] = "VS-NfD";
  in["subject"]["clearanceCountry"] = "DEU";
  in["resource"]["classification"] = "RESTRICTED";
  EXPECT_TRUE(decide_with(in, {{"case_insensitive_clearance_terms", true}})["allow"].get<bool>());
  EXPECT_EQ(decide_with(in, {{"case_insensitive_clearance_terms", false}})["reason"],
            "Invalid clearance level: VS-NfD not recognized for country DEU");
  // Any spelling of the key matches once both sides are upper-cased.
  in["subject"]["clearance"] = "vs-nfd";
  EXPECT_TRUE(decide_with(in, {{"case_insensitive_clearance_terms", true}})["allow"].get<bool>());
  // A bundle whose keys collide after case folding with different levels is rejected.
  Json doc = Json::object();
  doc["classification_equivalency"] = {{"DEU", {{"VS-NfD", "NATO_RESTRICTED"}, {"VS-NFD", "NATO_SECRET"}}}};
  EXPECT_THROW(parse_bundle(doc), BundleError);
}

TEST(Differences, ExplicitOptionsOverrideTheBundle) {
  Json in = base_input();
  in["subject"]["acpCOI"] = Json::array();
  in["resource"]["COI"] = {"NATO"};
  in["subject"]["clearance"] = "VS-NfD";
  in["subject"]["clearanceCountry"] = "DEU";
  in["resource"]["classification"] = "RESTRICTED";
  EXPECT_FALSE(decide_struct(in, sample_bundle(), PolicyOptions{}).allow);
  PolicyOptions o = original_options();
  const Decision d = decide_struct(in, sample_bundle(), o);
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason, "Invalid clearance level: VS-NfD not recognized for country DEU");
  o.case_insensitive_clearance_terms = true;
  EXPECT_TRUE(decide_struct(in, sample_bundle(), o).allow);
}

TEST(Differences, UnknownOrMistypedOptionsRejectTheBundle) {
  Json doc = Json::object();
  doc["policy_options"] = {{"coi_requires_membershipp", true}};
  EXPECT_THROW(parse_bundle(doc), BundleError);
  doc["policy_options"] = {{"coi_requires_membership", "yes"}};
  EXPECT_THROW(parse_bundle(doc), BundleError);
}

}  // namespace

// DIVE's federation: an issuer's classification cap (trusted_issuers.<iss>.max_classification) bounds what
// its users are granted, whatever their clearance; without a cap nothing changes.
TEST(FederationCap, AnIssuersCapBoundsItsUsersClearance) {
  Json doc = load_json(data_file("policy-bundle.json"));
  Json in = base_input();
  in["subject"]["clearance"] = "TOP_SECRET";
  in["resource"]["classification"] = "SECRET";
  ASSERT_TRUE(doc["trusted_issuers"].is_object());
  const std::string iss = doc["trusted_issuers"].begin().key();
  in["subject"]["issuer"] = iss;
  const Json uncapped = decide(in, *parse_bundle(doc));
  ASSERT_TRUE(uncapped["allow"].get<bool>()) << uncapped["reason"];
  doc["trusted_issuers"][iss]["max_classification"] = "CONFIDENTIAL";
  const auto capped_bundle = parse_bundle(doc);
  const Json capped = decide(in, *capped_bundle);
  EXPECT_FALSE(capped["allow"].get<bool>());
  EXPECT_EQ(
      capped["reason"],
      "Insufficient clearance: the issuer's classification cap is CONFIDENTIAL, resource requires SECRET");
  EXPECT_FALSE(capped["evaluation_details"]["checks"]["clearance_sufficient"].get<bool>());
  in["resource"]["classification"] = "CONFIDENTIAL";
  EXPECT_EQ(decide(in, *capped_bundle)["allow"], uncapped["allow"]) << "at the cap: as without it";
  // Another issuer's users are not capped by it.
  doc["trusted_issuers"][iss]["max_classification"] = "TOP_SECRET";
  in["resource"]["classification"] = "SECRET";
  EXPECT_EQ(decide(in, *parse_bundle(doc))["allow"], uncapped["allow"]);
  doc["trusted_issuers"][iss]["max_classification"] = "COSMIC";
  EXPECT_THROW(parse_bundle(doc), BundleError);
}
