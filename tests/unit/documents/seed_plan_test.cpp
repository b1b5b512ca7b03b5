// The seed plan: deterministic, faithful to seed.json's weights, affinity, titles and locale tables.
#include "documents/seed_plan.hpp"

#include <gtest/gtest.h>

#include "common/fs.hpp"

#include <map>
#include <regex>
#include <set>

#include "ztdf/label.hpp"
#include "ztdf/marking.hpp"

using namespace dive;
using namespace dive::documents;

namespace {

Json seed_json() {
  return Json::parse(read_file(std::string(DIVE_DATA_DIR) + "/seed.json"));
}

std::map<std::string, int> template_counts(const SeedPlan& plan, int n) {
  std::map<std::string, int> out;
  for (int i = 1; i <= n; ++i) out[plan.document(i, 99).template_name]++;
  return out;
}

}  // namespace

TEST(SeedPlan, SameSeedAndIndexGiveTheSameDocumentAndOthersDiffer) {
  SeedPlan plan = SeedPlan::from_seed_json(seed_json(), "USA");
  DocumentSpec a = plan.document(42, 7), b = plan.document(42, 7);
  EXPECT_EQ(a.resource_id, b.resource_id);
  EXPECT_EQ(a.title, b.title);
  EXPECT_EQ(a.label, b.label);
  EXPECT_EQ(a.content, b.content);
  // "doc-USA-" + 96 bits (16 base64url characters), keyed: another key gives other ids, the seed and
  // index do not show.
  EXPECT_EQ(a.resource_id.rfind("doc-USA-", 0), 0u);
  EXPECT_EQ(a.resource_id.size(), 8u + 16u);
  EXPECT_EQ(a.resource_id.find("42"), std::string::npos);
  EXPECT_NE(a.resource_id, plan.document(43, 7).resource_id);
  SeedPlan keyed = SeedPlan::from_seed_json(seed_json(), "USA");
  keyed.set_id_key("instance secret");
  EXPECT_NE(keyed.document(42, 7).resource_id, a.resource_id);
  EXPECT_EQ(keyed.document(42, 7).resource_id, keyed.document(42, 7).resource_id);
  EXPECT_EQ(keyed.document(42, 7).title, a.title);
  // Another seed value changes the choices of most documents (not only the id).
  int differ = 0;
  for (int i = 1; i <= 50; ++i)
    if (plan.document(i, 7).title != plan.document(i, 8).title ||
        !(plan.document(i, 7).label == plan.document(i, 8).label))
      ++differ;
  EXPECT_GT(differ, 40);
}

TEST(SeedPlan, EveryDocumentHasAValidLabelFromATemplate) {
  SeedPlan plan = SeedPlan::from_seed_json(seed_json(), "USA");
  std::set<std::string> names;
  for (const auto& t : plan.templates()) names.insert(t.name);
  EXPECT_EQ(names.size(), 35u);
  std::regex title(R"(^.+ - .+ [0-9]+$)");
  for (int i = 1; i <= 2000; ++i) {
    DocumentSpec d = plan.document(i, 1);
    ASSERT_TRUE(names.count(d.template_name)) << d.template_name;
    ztdf::SecurityLabel dated = d.label;  // encryption sets the creation date
    dated.creation_date = "2026-11-27T00:00:00.000Z";
    dated.display_marking = ztdf::display_marking(dated);
    ASSERT_NO_THROW(ztdf::validate_label(dated)) << d.resource_id;
    ASSERT_TRUE(std::regex_match(d.title, title)) << d.title;
    ASSERT_EQ(d.label.originating_country, "USA");
    ASSERT_FALSE(d.content.empty());
  }
}

TEST(SeedPlan, ClassificationsFollowTheWeights) {
  SeedPlan plan = SeedPlan::from_seed_json(seed_json(), "USA");
  std::map<ztdf::Classification, int> n;
  const int total = 20000;
  for (int i = 1; i <= total; ++i) n[plan.document(i, 3).label.classification]++;
  // Weights 20/15/25/25/15 of 100: each within 2 percentage points (binomial sd ≈ 0.3 points).
  auto share = [&](ztdf::Classification c) { return 100.0 * n[c] / total; };
  EXPECT_NEAR(share(ztdf::Classification::kUnclassified), 20, 2);
  EXPECT_NEAR(share(ztdf::Classification::kRestricted), 15, 2);
  EXPECT_NEAR(share(ztdf::Classification::kConfidential), 25, 2);
  EXPECT_NEAR(share(ztdf::Classification::kSecret), 25, 2);
  EXPECT_NEAR(share(ztdf::Classification::kTopSecret), 15, 2);
}

TEST(SeedPlan, InstanceAffinityRaisesTheWeightOfItsTemplates) {
  Json seed = seed_json();
  SeedPlan usa = SeedPlan::from_seed_json(seed, "USA");
  SeedPlan fra = SeedPlan::from_seed_json(seed, "FRA");
  auto weight = [](const SeedPlan& p, const std::string& name) {
    for (const auto& t : p.templates())
      if (t.name == name) return t.weight;
    return -1.0;
  };
  EXPECT_DOUBLE_EQ(weight(usa, "US-ONLY with NOFORN caveat"), 3.5 * 1.5);
  EXPECT_DOUBLE_EQ(weight(fra, "US-ONLY with NOFORN caveat"), 3.5);
  EXPECT_DOUBLE_EQ(weight(fra, "EU Restricted (no US)"), weight(usa, "EU Restricted (no US)") * 1.5);
  auto usa_n = template_counts(usa, 20000), fra_n = template_counts(fra, 20000);
  EXPECT_GT(usa_n["US-ONLY with NOFORN caveat"], fra_n["US-ONLY with NOFORN caveat"]);
  EXPECT_GT(fra_n["EU Restricted (no US)"], usa_n["EU Restricted (no US)"]);
}

TEST(SeedPlan, TitlesAndOriginalClassificationComeFromTheInstanceTables) {
  Json seed = seed_json();
  SeedPlan fra = SeedPlan::from_seed_json(seed, "FRA");
  SeedPlan tst = SeedPlan::from_seed_json(seed, "TST");
  std::set<std::string> fra_prefixes, usa_prefixes;
  for (const auto& p : seed["resources"]["title_prefixes"]["FRA"]) fra_prefixes.insert(p.get<std::string>());
  for (const auto& p : seed["resources"]["title_prefixes"]["USA"]) usa_prefixes.insert(p.get<std::string>());
  bool saw_secret = false;
  for (int i = 1; i <= 300; ++i) {
    DocumentSpec f = fra.document(i, 5);
    EXPECT_TRUE(fra_prefixes.count(f.title.substr(0, f.title.find(" - ")))) << f.title;
    if (f.label.classification == ztdf::Classification::kSecret) {
      saw_secret = true;
      ASSERT_TRUE(f.label.original_classification);
      EXPECT_EQ(*f.label.original_classification, "SECRET DÉFENSE");
    }
    DocumentSpec t = tst.document(i, 5);
    EXPECT_TRUE(usa_prefixes.count(t.title.substr(0, t.title.find(" - ")))) << "fallback to USA: " << t.title;
    EXPECT_FALSE(t.label.original_classification) << "no locale table for TST: the canonical name";
  }
  EXPECT_TRUE(saw_secret);
}

TEST(SeedPlan, RejectsASeedFileWithoutWhatItNeeds) {
  Json seed = seed_json();
  Json no_templates = seed;
  no_templates["resources"].erase("coi_templates");
  EXPECT_THROW(SeedPlan::from_seed_json(no_templates, "USA"), std::runtime_error);
  Json bad_weight = seed;
  bad_weight["resources"]["classification_weights"]["SECRETISH"] = 3;
  EXPECT_THROW(SeedPlan::from_seed_json(bad_weight, "USA"), std::runtime_error);
  Json no_rel = seed;
  no_rel["resources"]["coi_templates"][0]["releasabilityTo"] = Json::array();
  EXPECT_THROW(SeedPlan::from_seed_json(no_rel, "USA"), std::runtime_error);
  EXPECT_THROW(SeedPlan::from_seed_json(Json::object(), "USA"), std::runtime_error);
}
