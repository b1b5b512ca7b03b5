#include "documents/seed_plan.hpp"

#include "common/encoding.hpp"

#include <cstdio>
#include <stdexcept>

namespace dive::documents {

namespace {

const Json& member(const Json& obj, const char* name, const char* where) {
  auto it = obj.find(name);
  if (it == obj.end())
    throw std::runtime_error(std::string("seed.json: ") + where + "." + name + " is missing");
  return *it;
}

std::vector<std::string> strings(const Json& arr, const std::string& where) {
  if (!arr.is_array()) throw std::runtime_error("seed.json: " + where + " must be an array of strings");
  std::vector<std::string> out;
  for (const auto& v : arr) {
    if (!v.is_string()) throw std::runtime_error("seed.json: " + where + " must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

// SplitMix64: a fast, well-mixed function of (seed, index, salt), so that any document can be generated
// alone (in any order, on any thread) and still be the same.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Draw {
 public:
  Draw(uint64_t seed, uint64_t index) : state_(mix(seed) ^ mix(index * 0x632be59bd9b4e019ULL + 1)) {}
  uint64_t next() { return state_ = mix(state_); }
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

template <class T, class W>
const T& pick_weighted(const std::vector<T>& items, W weight_of, double total, Draw& d) {
  double r = d.unit() * total;
  for (const auto& it : items) {
    r -= weight_of(it);
    if (r < 0) return it;
  }
  return items.back();
}

// One entry of resources.coi_templates (at `where`), its weight multiplied by `affinity` when the
// template names instance `code` in its instanceAffinity.
CoiTemplate coi_template(const Json& t, const std::string& where, const std::string& code, double affinity) {
  CoiTemplate ct;
  ct.name = t.value("name", where);
  ct.coi = strings(t.value("coi", Json::array()), where + ".coi");
  std::string op = t.value("operator", "ALL");
  if (op != "ALL" && op != "ANY") throw std::runtime_error("seed.json: " + where + ".operator is invalid");
  ct.coi_operator = op == "ANY" ? ztdf::CoiOperator::kAny : ztdf::CoiOperator::kAll;
  ct.releasability_to = strings(member(t, "releasabilityTo", where.c_str()), where + ".releasabilityTo");
  ct.caveats = strings(t.value("caveats", Json::array()), where + ".caveats");
  ct.releasable_to_industry = t.value("releasableToIndustry", false);
  ct.weight = t.value("weight", 1.0);
  for (const auto& a : strings(t.value("instanceAffinity", Json::array()), where + ".instanceAffinity"))
    if (a == code) ct.weight *= affinity;
  if (ct.releasability_to.empty() || ct.weight < 0)
    throw std::runtime_error("seed.json: " + where + " has no releasabilityTo or a negative weight");
  return ct;
}

}  // namespace

SeedPlan SeedPlan::from_seed_json(const Json& seed, const std::string& code) {
  SeedPlan p;
  p.code_ = code;
  const Json& r = member(seed, "resources", "");
  if (auto it = r.find("count_clamp"); it != r.end() && it->is_array() && it->size() == 2)
    p.max_count_ = std::min((*it)[1].get<int>(), 20000);

  const Json& weights = member(r, "classification_weights", "resources");
  for (auto it = weights.begin(); it != weights.end(); ++it) {
    auto c = ztdf::parse_classification(it.key());
    if (!c || !it.value().is_number() || it.value().get<double>() < 0)
      throw std::runtime_error("seed.json: resources.classification_weights." + it.key() + " is invalid");
    p.classifications_.emplace_back(*c, it.value().get<double>());
    p.classification_total_ += it.value().get<double>();
  }

  double affinity = r.value("affinity_weight_multiplier_default", 1.0);
  if (auto it = r.find("affinity_weight_multiplier"); it != r.end() && it->contains(code))
    affinity = (*it)[code].get<double>();
  const Json& templates = member(r, "coi_templates", "resources");
  for (size_t i = 0; i < templates.size(); ++i) {
    CoiTemplate ct =
        coi_template(templates[i], "resources.coi_templates[" + std::to_string(i) + "]", code, affinity);
    p.template_total_ += ct.weight;
    p.templates_.push_back(std::move(ct));
  }
  if (p.templates_.empty() || p.classifications_.empty() || p.template_total_ <= 0 ||
      p.classification_total_ <= 0)
    throw std::runtime_error("seed.json: resources has no usable templates or classification weights");

  const Json& prefixes = member(r, "title_prefixes", "resources");
  std::string fallback = r.value("title_prefix_fallback_instance", "USA");
  p.prefixes_ =
      strings(prefixes.contains(code) ? prefixes[code]
                                      : member(prefixes, fallback.c_str(), "resources.title_prefixes"),
              "resources.title_prefixes");
  p.subjects_ = strings(member(r, "title_subjects", "resources"), "resources.title_subjects");
  if (p.prefixes_.empty() || p.subjects_.empty())
    throw std::runtime_error("seed.json: resources.title_prefixes/title_subjects are empty");

  const Json* locale = nullptr;
  if (auto it = r.find("original_classification_locale"); it != r.end() && it->contains(code))
    locale = &(*it)[code];
  for (auto c : {ztdf::Classification::kUnclassified, ztdf::Classification::kRestricted,
                 ztdf::Classification::kConfidential, ztdf::Classification::kSecret,
                 ztdf::Classification::kTopSecret}) {
    std::string name(ztdf::to_string(c));
    p.locale_.push_back(locale && locale->contains(name) ? (*locale)[name].get<std::string>() : name);
  }
  return p;
}

DocumentSpec SeedPlan::document(uint64_t index, uint64_t seed_random) const {
  Draw d(seed_random, index);
  DocumentSpec s;
  const std::string mac =
      hmac_sha256(id_key_, "dive-seed-id:" + std::to_string(seed_random) + ":" + std::to_string(index));
  s.resource_id = "doc-" + code_ + "-" + base64url_encode(std::string_view(mac).substr(0, 12));

  auto level = pick_weighted(
      classifications_, [](const auto& c) { return c.second; }, classification_total_, d);
  const CoiTemplate& t = pick_weighted(
      templates_, [](const CoiTemplate& c) { return c.weight; }, template_total_, d);
  s.template_name = t.name;
  s.title = prefixes_[d.below(prefixes_.size())] + " - " + subjects_[d.below(subjects_.size())] + " " +
            std::to_string(index);

  ztdf::SecurityLabel& l = s.label;
  l.classification = level.first;
  l.releasability_to = t.releasability_to;
  l.coi = t.coi;
  l.coi_operator = t.coi_operator;
  l.caveats = t.caveats;
  l.releasable_to_industry = t.releasable_to_industry;
  l.originating_country = code_;
  const std::string& original = locale_[static_cast<size_t>(level.first)];
  if (original != ztdf::to_string(level.first)) l.original_classification = original;

  s.content = s.title + "\n\n" + std::string(ztdf::to_string(level.first)) +
              " synthetic document seeded for instance " + code_ + " from template \"" + t.name +
              "\" (seed " + std::to_string(seed_random) + ", index " + std::to_string(index) +
              "). Releasable to: ";
  for (size_t i = 0; i < l.releasability_to.size(); ++i) s.content += (i ? ", " : "") + l.releasability_to[i];
  s.content += ".\n";
  return s;
}

}  // namespace dive::documents
