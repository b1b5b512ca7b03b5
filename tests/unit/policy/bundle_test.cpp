// Bundle parsing and validation, revisions, the atomic holder and the file loader.
#include <gtest/gtest.h>

#include <thread>

#include "policy/bundle_holder.hpp"
#include "policy/bundle_loader.hpp"
#include "policy_test_util.hpp"

using namespace dive;
using namespace dive::policy;
using namespace dive::policy::test;

namespace {

std::string error_of(const Json& doc) {
  try {
    (void)parse_bundle(doc);
  } catch (const BundleError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Bundle, SampleBundleLoadsWithItsTables) {
  const Bundle& b = sample_bundle();
  EXPECT_EQ(b.issuer_tenant.size(), 61u);
  EXPECT_EQ(b.federation_matrix.size(), 17u);
  EXPECT_EQ(b.coi_members.size(), 19u);
  EXPECT_TRUE(b.has_tenant_configs);
  EXPECT_EQ(b.industry_max.at("USA"), "SECRET");
  EXPECT_EQ(b.industry_max.at("FRA"), "CONFIDENTIAL");
  EXPECT_TRUE(b.from_bundle.trusted_issuers);
  EXPECT_FALSE(b.from_bundle.classification_equivalency) << "the sample has no classification_equivalency";
  EXPECT_EQ(b.revision.size(), 64u);
}

TEST(Bundle, EmptyDocumentUsesTheBuiltInDefaults) {
  const auto b = default_bundle();
  EXPECT_EQ(b->issuer_tenant.size(), 9u);
  EXPECT_EQ(b->federation_matrix.size(), 4u);
  EXPECT_EQ(b->equivalency.size(), 35u);
  EXPECT_EQ(b->country_codes.size(), 249u);
  EXPECT_FALSE(b->has_tenant_configs);
  EXPECT_FALSE(b->tenant_id);
}

TEST(Bundle, RevisionIsTheHashOfCanonicalContent) {
  const Json doc = load_json(data_file("policy-bundle.json"));
  const auto a = parse_bundle(doc);
  const auto b = parse_bundle_text(doc.dump(4));  // whitespace and key order do not matter
  EXPECT_EQ(a->revision, b->revision);
  Json changed = doc;
  changed["tenant_id"] = "USA";
  EXPECT_NE(parse_bundle(changed)->revision, a->revision);
}

TEST(Bundle, PresentRegistriesReplaceDefaultsWhole) {
  Json doc = Json::object();
  doc["trusted_issuers"] = Json::object();
  doc["coi_members"] = {{"X", {"USA"}}};
  doc["country_codes"] = {"USA", "ATA"};
  doc["classification_equivalency"] = {{"USA", {{"SECRET", "NATO_SECRET"}}}};
  const auto b = parse_bundle(doc);
  EXPECT_TRUE(b->issuer_tenant.empty());
  EXPECT_EQ(b->coi_members.size(), 1u);
  EXPECT_EQ(b->country_codes.size(), 2u);
  EXPECT_EQ(b->equivalency.size(), 1u);
  EXPECT_EQ(b->federation_matrix.size(), 4u) << "absent: the default";
}

TEST(Bundle, WrapperFormIsUnwrapped) {
  Json doc = Json::object();
  doc["trusted_issuers"] = {{"success", true}, {"trusted_issuers", {{"https://x", {{"tenant", "FRA"}}}}}};
  doc["federation_matrix"] = {{"success", true}, {"federation_matrix", {{"FRA", {"USA"}}}}};
  doc["tenant_configs"] = {{"success", true},
                           {"tenant_configs", {{"FRA", {{"industry_max_classification", "SECRET"}}}}}};
  const auto b = parse_bundle(doc);
  EXPECT_EQ(b->issuer_tenant.at("https://x"), "FRA");
  EXPECT_TRUE(b->federation_matrix.at("FRA").contains("USA"));
  EXPECT_EQ(b->industry_max.at("FRA"), "SECRET");
}

TEST(Bundle, MalformedBundlesAreRejectedWithAClearMessage) {
  EXPECT_NE(error_of(Json::array()).find("must be a JSON object"), std::string::npos);
  EXPECT_NE(error_of({{"trusted_issuers", Json::array()}}).find("trusted_issuers must be an object"),
            std::string::npos);
  EXPECT_NE(error_of({{"trusted_issuers", {{"https://a", {{"name", "x"}}}}}})
                .find(R"(trusted_issuers["https://a"].tenant must be a string)"),
            std::string::npos);
  EXPECT_NE(error_of({{"federation_matrix", {{"USA", "FRA"}}}})
                .find(R"(federation_matrix["USA"] must be an array)"),
            std::string::npos);
  EXPECT_NE(error_of({{"coi_members", {{"FVEY", {1, 2}}}}})
                .find(R"(coi_members["FVEY"] must be an array of strings)"),
            std::string::npos);
  EXPECT_NE(error_of({{"classification_equivalency", {{"USA", {{"SECRET", "SECRET"}}}}}})
                .find(R"(classification_equivalency["USA"]["SECRET"] is "SECRET", not one of the five NATO)"),
            std::string::npos);
  EXPECT_NE(error_of({{"tenant_configs", {{"USA", {{"industry_max_classification", 3}}}}}})
                .find(R"(tenant_configs["USA"].industry_max_classification must be a string)"),
            std::string::npos);
  EXPECT_NE(error_of({{"tenant_id", nullptr}}).find("tenant_id must be a string"), std::string::npos);
  EXPECT_NE(error_of({{"country_codes", "USA"}}).find("country_codes must be an array of strings"),
            std::string::npos);
  EXPECT_NE(error_of({{"trusted_issuers", nullptr}}).find("trusted_issuers must be an object"),
            std::string::npos);
  EXPECT_EQ(error_of({{"about", "unknown keys are ignored"}, {"extra", {1, 2}}}), "(accepted)");
  EXPECT_THROW((void)parse_bundle_text("{\"trusted_issuers\": "), BundleError);
  EXPECT_THROW(
      (void)parse_bundle_text("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"),
      BundleError);
}

TEST(BundleHolder, KeepsThePreviousBundleOnError) {
  BundleHolder holder;
  EXPECT_EQ(holder.current(), nullptr);
  EXPECT_EQ(holder.revision(), "");
  std::string error;
  ASSERT_TRUE(holder.replace(load_json(data_file("policy-bundle.json")), &error)) << error;
  const std::string first = holder.revision();
  EXPECT_FALSE(holder.replace_text("{\"trusted_issuers\": 5}", &error));
  EXPECT_NE(error.find("trusted_issuers must be an object"), std::string::npos) << error;
  EXPECT_EQ(holder.revision(), first);
  EXPECT_FALSE(holder.replace(std::shared_ptr<const Bundle>()));
  EXPECT_EQ(holder.revision(), first);
  EXPECT_TRUE(holder.replace(default_bundle()));
  EXPECT_EQ(holder.revision(), default_bundle()->revision);
}

TEST(BundleHolder, LoadsFiles) {
  TempDir dir("policy-bundle");
  BundleHolder holder;
  std::string error;
  EXPECT_TRUE(holder.load_file(data_file("policy-bundle.json"), &error)) << error;
  EXPECT_FALSE(holder.load_file(dir.path() / "missing.json", &error));
  EXPECT_NE(error.find("cannot read policy bundle"), std::string::npos) << error;
  write_file_atomic(dir.path() / "bad.json", "{\"coi_members\": []}");
  EXPECT_FALSE(holder.load_file(dir.path() / "bad.json", &error));
  EXPECT_NE(error.find("bad.json"), std::string::npos) << error;
  EXPECT_NE(error.find("coi_members must be an object"), std::string::npos) << error;
  EXPECT_THROW((void)load_bundle_file(dir.path() / "bad.json"), BundleError);
  EXPECT_EQ(holder.revision(), sample_bundle().revision);
}

TEST(BundleHolder, ReadersSeeWholeBundlesDuringSwaps) {
  BundleHolder holder(default_bundle());
  const auto sample = parse_bundle(load_json(data_file("policy-bundle.json")));
  std::atomic<bool> stop{false};
  std::atomic<long> reads{0};
  std::thread reader([&] {
    while (!stop) {
      auto b = holder.current();
      ASSERT_TRUE(b);
      ASSERT_TRUE(b->issuer_tenant.size() == 9 || b->issuer_tenant.size() == 61);
      ++reads;
    }
  });
  for (int i = 0; i < 2000 || (reads < 1000 && i < 10'000'000); ++i)
    holder.replace(i % 2 ? default_bundle() : sample);
  stop = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
}

TEST(Bundle, SummaryForStatus) {
  const Json s = bundle_summary(sample_bundle());
  EXPECT_EQ(s["revision"], sample_bundle().revision);
  EXPECT_EQ(s["trusted_issuers"]["count"], 61);
  EXPECT_EQ(s["trusted_issuers"]["source"], "bundle");
  EXPECT_EQ(s["classification_equivalency"]["source"], "built-in");
  EXPECT_EQ(s["policy_options"]["coi_requires_membership"], true);
}

}  // namespace
