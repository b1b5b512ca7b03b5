#pragma once
// What to seed: the document generator of data/seed.json ("resources"), deterministic for a given
// seed value. Pure logic (no keys, no database): the seeder encrypts and stores what this produces.
//
//   SeedPlan plan = SeedPlan::from_seed_json(seed_json, "USA");
//   DocumentSpec d = plan.document(42, /*seed_random=*/7);   // the same for the same (index, seed_random)
//
// Choices per document, as the system we replace made them: a classification by the weights of
// classification_weights; a COI template by its weight, multiplied by affinity_weight_multiplier of the
// seeding instance when the template's instanceAffinity includes it; a title "<prefix> - <subject> <index>"
// from the instance's title_prefixes (USA's when it has none); originalClassification from the instance's
// locale table (the canonical name when it has none); originating country = the instance.
#include <cstdint>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "ztdf/label.hpp"

namespace dive::documents {

struct CoiTemplate {
  std::string name;
  std::vector<std::string> coi;
  ztdf::CoiOperator coi_operator = ztdf::CoiOperator::kAll;
  std::vector<std::string> releasability_to;
  std::vector<std::string> caveats;
  bool releasable_to_industry = false;
  double weight = 0;  // after the instance's affinity multiplier
};

struct DocumentSpec {
  std::string resource_id;  // doc-<CODE>-<16 base64url characters: 96 keyed bits> (set_id_key)
  std::string title;
  std::string template_name;
  ztdf::SecurityLabel label;  // creation_date and display_marking left empty (set when encrypted)
  std::string content;        // the plaintext
};

class SeedPlan {
 public:
  // Throws std::runtime_error naming the member of seed.json that is missing or invalid.
  static SeedPlan from_seed_json(const Json& seed, const std::string& code);

  DocumentSpec document(uint64_t index, uint64_t seed_random) const;
  // The key document ids are derived with: "doc-<CODE>-" + 96 bits of HMAC-SHA256(key, seed:index), so that
  // one id seen reveals nothing about the others (the same key and seed still give the same ids). The
  // orchestrator derives it from the instance's secrets; without one, ids are still random-looking but only
  // as hard to guess as the seed.
  void set_id_key(std::string key) { id_key_ = std::move(key); }

  const std::string& code() const { return code_; }
  const std::vector<CoiTemplate>& templates() const { return templates_; }
  int default_count() const { return default_count_; }
  int max_count() const { return max_count_; }

 private:
  std::string code_;
  std::string id_key_;
  std::vector<std::pair<ztdf::Classification, double>> classifications_;
  std::vector<CoiTemplate> templates_;
  std::vector<std::string> prefixes_, subjects_;
  std::vector<std::string> locale_;  // original classification name per level (index = Classification)
  double classification_total_ = 0, template_total_ = 0;
  int default_count_ = 500, max_count_ = 20000;
};

}  // namespace dive::documents
