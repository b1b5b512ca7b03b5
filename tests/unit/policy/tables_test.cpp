// Every row class of the data tables (clearance equivalency, canonical resolution, COI registry,
// federation matrix, industry caps, ISO codes, trusted issuers), driven by the data files themselves.
#include <gtest/gtest.h>

#include <set>

#include "policy/checks.hpp"
#include "policy/clearance.hpp"
#include "policy/levels.hpp"
#include "policy/unicode.hpp"
#include "policy_test_util.hpp"

using namespace dive;
using namespace dive::policy;
using namespace dive::policy::test;

namespace {

Field str(const std::string& s) {
  Field f;
  f.kind = Kind::kString;
  f.str = s;
  return f;
}

std::optional<int> level(const std::string& term, const std::string& country, const PolicyOptions& o) {
  const Input in;
  const EvalContext c{in, sample_bundle(), o};
  return nato_level(c, str(term), str(country));
}

const Json& clearance_doc() {
  static const Json d = load_json(data_file("clearance.json"));
  return d;
}

TEST(EquivalencyTable, EveryRowResolvesAsTheOriginalDid) {
  const Json& doc = clearance_doc();
  std::set<std::pair<std::string, std::string>> unreachable;
  for (const auto& u : doc["unreachable_keys_after_upper"])
    unreachable.insert({u["country"].get<std::string>(), u["key"].get<std::string>()});
  size_t rows = 0;
  for (const auto& [country, terms] : doc["equivalency"].items()) {
    for (const auto& [term, nato] : terms.items()) {
      ++rows;
      const auto expected = nato_rank(nato.get<std::string>());
      ASSERT_TRUE(expected);
      const auto original = level(term, country, original_options());
      if (unreachable.count({country, term})) {
        EXPECT_FALSE(original) << country << " " << term << " is unreachable in the original";
      } else {
        EXPECT_EQ(original, expected) << country << " " << term;
      }
      // Input case does not matter for reachable keys (the original upper-cases the input); skipped
      // where lower-casing loses information (Turkish dotted İ lower-cases to a plain i).
      if (!unreachable.count({country, term}) &&
          unicode::upper(unicode::lower(term)) == unicode::upper(term)) {
        EXPECT_EQ(level(unicode::lower(term), country, original_options()), expected)
            << country << " " << term;
      }
      // With the defaults every key is reachable.
      EXPECT_EQ(level(term, country, PolicyOptions{}), expected) << country << " " << term;
    }
  }
  EXPECT_EQ(rows, doc["equivalency_entry_count"].get<size_t>());
  EXPECT_EQ(sample_bundle().equivalency.size(), doc["equivalency_country_count"].get<size_t>());
}

TEST(EquivalencyTable, CanonicalNamesPerCountryAsTheOriginalAndWithDifference2) {
  const Json& doc = clearance_doc();
  PolicyOptions only_d2_off;
  only_d2_off.canonical_clearance_any_country = false;
  for (const auto& [country, levels] : doc["canonical_level_resolution"].items()) {
    for (const auto& [name, nato] : levels.items()) {
      const auto got = level(name, country, only_d2_off);
      if (nato.is_null()) {
        EXPECT_FALSE(got) << country << " " << name;
      } else {
        EXPECT_EQ(got, nato_rank(nato.get<std::string>())) << country << " " << name;
      }
      EXPECT_EQ(level(name, country, PolicyOptions{}), canonical_rank(name)) << country << " " << name;
    }
    EXPECT_EQ(level("TOP SECRET", country, PolicyOptions{}), 4) << country;
  }
}

TEST(EquivalencyTable, NatoNamesResolveForAnyCountryAndUnknownTermsAreNull) {
  for (const char* country : {"USA", "NLD", "XXX"}) {
    EXPECT_EQ(level("NATO_SECRET", country, original_options()), 3);
    EXPECT_EQ(level("nato secret", country, original_options()), 3);
    EXPECT_EQ(level("Cosmic-Top-Secret", country, original_options()), 4);
    EXPECT_FALSE(level("SUPER SECRET", country, PolicyOptions{}));
  }
  EXPECT_FALSE(level("SECRET", "XXX", original_options()));
  EXPECT_EQ(level("SECRET", "XXX", PolicyOptions{}), 3);
}

TEST(CoiRegistry, BundleAndBuiltinMembersMatchTheRegistry) {
  const Json members = load_json(data_file("coi.json"))["members"];
  for (const Bundle* b : {&sample_bundle(), default_bundle().get()}) {
    ASSERT_EQ(b->coi_members.size(), members.size());
    for (const auto& [coi, list] : members.items())
      EXPECT_EQ(b->coi_members.at(coi), list.get<std::vector<std::string>>()) << coi;
  }
}

TEST(CoiRegistry, StrictUnionFollowsEachRow) {
  const Json members = load_json(data_file("coi.json"))["members"];
  for (const auto& [coi, list] : members.items()) {
    Json in = base_input();
    in["subject"]["acpCOI"] = {coi};
    in["resource"]["COI"] = {coi};
    in["context"]["strict_coi_coherence"] = true;
    std::vector<std::string> rel = list.get<std::vector<std::string>>();
    rel.push_back("ATA");  // Antarctica is in no COI
    in["resource"]["releasabilityTo"] = rel;
    const Input input = input_from_json(in);
    const EvalContext c{input, sample_bundle(), sample_bundle().options};
    const auto msgs = coi_coherence_violations(c);
    std::vector<std::string> strict;
    for (const auto& m : msgs)
      if (m.rfind("[STRICT]", 0) == 0) strict.push_back(m);
    ASSERT_EQ(strict.size(), 1u) << coi;
    EXPECT_NE(strict[0].find("country ATA not in COI union"), std::string::npos) << strict[0];
  }
}

TEST(FederationMatrix, EveryRowAllowsItsPartnersAndNothingElse) {
  const Json fed = load_json(data_file("federation.json"));
  const Json& matrix = fed["federation_matrix"];
  Json doc = Json::object();
  doc["federation_matrix"] = matrix;
  std::vector<std::string> tenants;
  for (const auto& [t, _] : matrix.items()) tenants.push_back(t);
  tenants.push_back("CAN");  // a tenant without a row
  for (const auto& t : tenants) doc["trusted_issuers"]["https://idp/" + t] = {{"tenant", t}};
  const auto bundle = parse_bundle(doc);
  for (const auto& a : tenants) {
    for (const auto& b : tenants) {
      Json in = base_input();
      in["subject"]["issuer"] = "https://idp/" + a;
      in["context"]["tenant"] = b;
      const Input input = input_from_json(in);
      const Federation f = federation(EvalContext{input, *bundle, bundle->options});
      bool expected = a == b;
      if (matrix.contains(a))
        for (const auto& p : matrix[a]) expected = expected || p == b;
      EXPECT_EQ(f.can_access, expected) << a << " -> " << b;
      EXPECT_EQ(f.subject_tenant, a);
    }
  }
}

TEST(IndustryCaps, EveryTenantCapAndTheDefault) {
  const Json fed = load_json(data_file("federation.json"));
  Json caps = fed["industry_max_classification"];
  caps["CAN"] = fed["industry_max_classification_default_when_unconfigured"];  // unconfigured tenant
  for (const auto& [tenant, cap] : caps.items()) {
    const int cap_rank = *canonical_rank(cap.get<std::string>());
    for (int r = 0; r < 5; ++r) {
      Json in = base_input();
      in["subject"]["countryOfAffiliation"] = tenant;
      in["subject"]["organizationType"] = "INDUSTRY";
      in["subject"]["clearance"] = "TOP_SECRET";
      in["resource"]["classification"] = std::string(kCanonicalLevels[r]);
      in["resource"]["releasabilityTo"] = {tenant};
      in["resource"]["releasableToIndustry"] = true;
      const Json d = decide(in);
      EXPECT_EQ(d["evaluation_details"]["checks"]["industry_clearance_cap_ok"].get<bool>(), r <= cap_rank)
          << tenant << " " << kCanonicalLevels[r];
      EXPECT_EQ(d["allow"].get<bool>(), r <= cap_rank) << tenant << " " << kCanonicalLevels[r] << d["reason"];
    }
  }
}

TEST(CountryCodes, All249CodesAreValidAndOthersAreNot) {
  const Json iso = load_json(data_file("iso3166.json"));
  ASSERT_EQ(iso["codes"].size(), 249u);
  EXPECT_EQ(sample_bundle().country_codes.size(), 249u);
  for (const auto& code : iso["codes"])
    EXPECT_TRUE(sample_bundle().country_codes.contains(code.get<std::string>()));
  for (const char* bad : {"NATO", "FVEY", "EU", "usa", "UK", "XKX", ""})
    EXPECT_FALSE(sample_bundle().country_codes.contains(bad)) << bad;
}

TEST(TrustedIssuers, EverySampleIssuerIsTrustedWithItsTenant) {
  const Json doc = load_json(data_file("policy-bundle.json"));
  ASSERT_EQ(doc["trusted_issuers"].size(), 61u);
  for (const auto& [issuer, meta] : doc["trusted_issuers"].items()) {
    Json in = base_input();
    in["subject"]["issuer"] = issuer;
    const Input input = input_from_json(in);
    const Federation f = federation(EvalContext{input, sample_bundle(), sample_bundle().options});
    EXPECT_TRUE(f.trusted) << issuer;
    EXPECT_EQ(f.subject_tenant, meta["tenant"].get<std::string>());
    EXPECT_EQ(f.current_tenant, meta["tenant"].get<std::string>())
        << "no context.tenant: the issuer's tenant";
    EXPECT_TRUE(f.can_access);
  }
  EXPECT_EQ(default_bundle()->issuer_tenant.size(), 9u);
}

TEST(TrustedIssuers, CurrentTenantFallsBackToTenantIdThenUsa) {
  Json in = base_input();
  in["subject"]["issuer"] = "https://untrusted";
  const Input input = input_from_json(in);
  auto with_id = parse_bundle(Json{{"tenant_id", "FRA"}});
  EXPECT_EQ(federation(EvalContext{input, *with_id, with_id->options}).current_tenant, "FRA");
  EXPECT_EQ(federation(EvalContext{input, *default_bundle(), default_bundle()->options}).current_tenant,
            "USA");
}

}  // namespace
