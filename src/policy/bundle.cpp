#include "policy/bundle.hpp"

#include "common/encoding.hpp"
#include "policy/builtin_data.hpp"
#include "policy/levels.hpp"
#include "policy/unicode.hpp"

namespace dive::policy {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw BundleError("invalid policy bundle: " + what);
}

std::string key_path(std::string_view table, std::string_view key) {
  return std::string(table) + "[" + Json(std::string(key)).dump() + "]";
}

const Json* member(const Json& obj, std::string_view key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// {"success": ..., "<name>": {...}} as served by the original's data endpoints is unwrapped.
const Json& unwrap(const Json& v, std::string_view name) {
  if (v.is_object() && v.contains("success")) {
    if (const Json* inner = member(v, name); inner && inner->is_object()) return *inner;
  }
  return v;
}

const Json& require_object(const Json& v, const std::string& path) {
  if (!v.is_object()) fail(path + " must be an object");
  return v;
}

std::vector<std::string> string_array(const Json& v, const std::string& path) {
  if (!v.is_array()) fail(path + " must be an array of strings");
  std::vector<std::string> out;
  out.reserve(v.size());
  for (const auto& e : v) {
    if (!e.is_string()) fail(path + " must be an array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

// The registry from the bundle when present, else the built-in default.
const Json& pick(const Json& doc, std::string_view key, bool& from_bundle, bool wrapper_form = false) {
  if (const Json* v = member(doc, key)) {
    from_bundle = true;
    return wrapper_form ? unwrap(*v, key) : *v;
  }
  from_bundle = false;
  return builtin::defaults().at(std::string(key));
}

void parse_options(const Json& doc, PolicyOptions& opts) {
  const Json* v = member(doc, "policy_options");
  if (!v) return;
  require_object(*v, "policy_options");
  for (const auto& [key, val] : v->items()) {
    bool* slot = nullptr;
    if (key == "coi_requires_membership") slot = &opts.coi_requires_membership;
    if (key == "canonical_clearance_any_country") slot = &opts.canonical_clearance_any_country;
    if (key == "case_insensitive_clearance_terms") slot = &opts.case_insensitive_clearance_terms;
    if (!slot) fail("policy_options has an unknown option " + Json(key).dump());
    if (!val.is_boolean()) fail("policy_options." + key + " must be true or false");
    *slot = val.get<bool>();
  }
}

void parse_equivalency(const Json& v, Bundle& b) {
  require_object(v, "classification_equivalency");
  for (const auto& [country, terms] : v.items()) {
    const std::string path = key_path("classification_equivalency", country);
    require_object(terms, path);
    TermTable table;
    for (const auto& [term, level] : terms.items()) {
      const std::string term_path = path + "[" + Json(term).dump() + "]";
      if (!level.is_string()) fail(term_path + " must be a NATO level name");
      const auto rank = nato_rank(level.get_ref<const std::string&>());
      if (!rank) fail(term_path + " is " + level.dump() + ", not one of the five NATO level names");
      table.exact.emplace(term, *rank);
      const std::string folded = unicode::upper(term);
      auto [it, inserted] = table.folded.emplace(folded, *rank);
      if (!inserted && it->second != *rank)
        fail(path + " has terms that differ only in letter case but map to different levels (" +
             Json(folded).dump() + ")");
    }
    b.equivalency.emplace(country, std::move(table));
  }
}

void parse_coi_members(const Json& v, Bundle& b) {
  require_object(v, "coi_members");
  for (const auto& [coi, members] : v.items())
    b.coi_members.emplace(coi, string_array(members, key_path("coi_members", coi)));
}

void parse_issuers(const Json& v, Bundle& b) {
  require_object(v, "trusted_issuers");
  for (const auto& [issuer, meta] : v.items()) {
    const std::string path = key_path("trusted_issuers", issuer);
    require_object(meta, path);
    const Json* tenant = member(meta, "tenant");
    if (!tenant || !tenant->is_string()) fail(path + ".tenant must be a string");
    b.issuer_tenant.emplace(issuer, tenant->get<std::string>());
    if (const Json* cap = member(meta, "max_classification")) {
      if (!cap->is_string() || !canonical_rank(cap->get<std::string>()))
        fail(path +
             ".max_classification must be one of UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET, "
             "TOP_SECRET");
      b.issuer_max_classification.emplace(issuer, cap->get<std::string>());
    }
  }
}

void parse_matrix(const Json& v, Bundle& b) {
  require_object(v, "federation_matrix");
  for (const auto& [tenant, partners] : v.items()) {
    auto list = string_array(partners, key_path("federation_matrix", tenant));
    b.federation_matrix.emplace(tenant, StringSet(list.begin(), list.end()));
  }
}

std::optional<std::string> industry_max_of(const Json& cfg, const std::string& path) {
  const Json* m = member(cfg, "industry_max_classification");
  if (!m) return std::nullopt;
  if (!m->is_string()) fail(path + ".industry_max_classification must be a string");
  return m->get<std::string>();
}

void parse_tenant_configs(const Json& doc, Bundle& b) {
  if (const Json* raw = member(doc, "tenant_configs")) {
    const Json& v = require_object(unwrap(*raw, "tenant_configs"), "tenant_configs");
    b.has_tenant_configs = true;
    for (const auto& [tenant, cfg] : v.items()) {
      const std::string path = key_path("tenant_configs", tenant);
      require_object(cfg, path);
      if (auto m = industry_max_of(cfg, path)) b.industry_max.emplace(tenant, std::move(*m));
    }
  }
  if (const Json* cfg = member(doc, "tenant_config")) {
    require_object(*cfg, "tenant_config");
    b.tenant_config_industry_max = industry_max_of(*cfg, "tenant_config");
  }
  if (const Json* id = member(doc, "tenant_id")) {
    if (!id->is_string()) fail("tenant_id must be a string");
    b.tenant_id = id->get<std::string>();
  }
}

}  // namespace

std::shared_ptr<const Bundle> parse_bundle(const Json& doc) {
  if (!doc.is_object()) fail("the document must be a JSON object");
  auto b = std::make_shared<Bundle>();
  b->revision = sha256_hex(doc.dump());
  parse_options(doc, b->options);
  auto& src = b->from_bundle;
  parse_equivalency(pick(doc, "classification_equivalency", src.classification_equivalency), *b);
  parse_coi_members(pick(doc, "coi_members", src.coi_members), *b);
  parse_issuers(pick(doc, "trusted_issuers", src.trusted_issuers, true), *b);
  parse_matrix(pick(doc, "federation_matrix", src.federation_matrix, true), *b);
  const Json& codes = pick(doc, "country_codes", src.country_codes);
  for (auto& c : string_array(codes, "country_codes")) b->country_codes.insert(std::move(c));
  parse_tenant_configs(doc, *b);
  return b;
}

std::shared_ptr<const Bundle> parse_bundle_text(std::string_view text) {
  if (text.find('\0') != std::string_view::npos)
    throw BundleError("invalid policy bundle: contains a NUL byte");
  Json doc;
  try {
    doc = parse_json_limited(text, 32);
  } catch (const std::exception& e) {
    throw BundleError(std::string("invalid policy bundle: ") + e.what());
  }
  return parse_bundle(doc);
}

std::shared_ptr<const Bundle> default_bundle() {
  static const std::shared_ptr<const Bundle> b = parse_bundle(Json::object());
  return b;
}

Json bundle_summary(const Bundle& b) {
  auto source = [](bool from_bundle) { return from_bundle ? "bundle" : "built-in"; };
  Json s = Json::object();
  s["revision"] = b.revision;
  s["trusted_issuers"] = {{"count", b.issuer_tenant.size()},
                          {"source", source(b.from_bundle.trusted_issuers)}};
  s["federation_matrix"] = {{"tenants", b.federation_matrix.size()},
                            {"source", source(b.from_bundle.federation_matrix)}};
  s["coi_members"] = {{"count", b.coi_members.size()}, {"source", source(b.from_bundle.coi_members)}};
  s["classification_equivalency"] = {{"countries", b.equivalency.size()},
                                     {"source", source(b.from_bundle.classification_equivalency)}};
  s["country_codes"] = {{"count", b.country_codes.size()}, {"source", source(b.from_bundle.country_codes)}};
  s["tenant_configs"] = {{"present", b.has_tenant_configs}, {"industry_caps", b.industry_max.size()}};
  s["tenant_id"] = b.tenant_id ? Json(*b.tenant_id) : Json(nullptr);
  s["policy_options"] = {{"coi_requires_membership", b.options.coi_requires_membership},
                         {"canonical_clearance_any_country", b.options.canonical_clearance_any_country},
                         {"case_insensitive_clearance_terms", b.options.case_insensitive_clearance_terms}};
  return s;
}

}  // namespace dive::policy
