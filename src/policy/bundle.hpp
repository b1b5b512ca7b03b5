#pragma once
// The policy data bundle: the tables the decision reads, parsed once from JSON into indexed structures.
//
// Shape (every key optional; unknown keys such as "about" are ignored):
//   trusted_issuers      {"<issuer URL>": {"tenant": "USA", ...}}        (or
//   {"success":..,"trusted_issuers":{..}}) federation_matrix    {"USA": ["FRA", ...]} (same wrapper form
//   accepted) tenant_configs       {"USA": {"industry_max_classification": "SECRET", ...}}  (same wrapper
//   form) tenant_config        {"industry_max_classification": "..."}         (single-tenant fallback)
//   coi_members          {"FVEY": ["USA", ...]}
//   classification_equivalency {"FRA": {"SECRET DÉFENSE": "NATO_SECRET", ...}}
//   country_codes        ["ABW", ...]   (ISO 3166-1 alpha-3 list; a DIVE extension)
//   tenant_id            "USA"
//   policy_options       {"coi_requires_membership": true, ...}  (see PolicyOptions)
// A registry that is absent falls back to the built-in default of the original policy; one that is
// present replaces the default whole (as data.json does in OPA).
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/json.hpp"

namespace dive::policy {

// A bundle that cannot be used; the message names the offending key.
class BundleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The three deliberate differences from the original (docs/POLICY.md); true is the secure default.
struct PolicyOptions {
  // A non-empty resource COI requires the subject to hold COIs (original: an empty acpCOI passed).
  bool coi_requires_membership = true;
  // UNCLASSIFIED … TOP_SECRET and "TOP SECRET" resolve for every clearanceCountry.
  bool canonical_clearance_any_country = true;
  // National terms match case-insensitively (both sides upper-cased), so "VS-NfD" is reachable.
  bool case_insensitive_clearance_terms = true;

  bool operator==(const PolicyOptions&) const = default;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// One country's national terms → NATO rank (0..4).
struct TermTable {
  StringMap<int> exact;   // keys as written (the original: looked up with upper(term))
  StringMap<int> folded;  // keys upper-cased (case_insensitive_clearance_terms)
};

struct Bundle {
  std::string revision;  // hex SHA-256 of the canonical JSON text of the bundle document
  PolicyOptions options;

  StringSet country_codes;                          // valid ISO 3166-1 alpha-3 codes
  StringMap<TermTable> equivalency;                 // country → national terms
  StringMap<std::vector<std::string>> coi_members;  // COI → member countries
  StringMap<std::string> issuer_tenant;             // trusted issuer URL → tenant
  // trusted issuer URL → the highest classification its users may be granted (a federation's per-spoke
  // cap, trusted_issuers.<iss>.max_classification; absent: no cap)
  StringMap<std::string> issuer_max_classification;
  StringMap<StringSet> federation_matrix;                 // tenant → tenants it may access
  bool has_tenant_configs = false;                        // data.tenant_configs present
  StringMap<std::string> industry_max;                    // tenant → industry_max_classification
  std::optional<std::string> tenant_config_industry_max;  // data.tenant_config.industry_max_classification
  std::optional<std::string> tenant_id;

  // Where each table came from, for status output: "bundle" or "built-in".
  struct Sources {
    bool trusted_issuers = false, federation_matrix = false, coi_members = false,
         classification_equivalency = false, country_codes = false;
  } from_bundle;
};

// Parses and validates a bundle document. Throws BundleError with a message naming what is wrong.
std::shared_ptr<const Bundle> parse_bundle(const Json& doc);
// Same from text (JSON syntax errors are reported as BundleError too).
std::shared_ptr<const Bundle> parse_bundle_text(std::string_view text);
// The built-in defaults alone (an empty bundle document).
std::shared_ptr<const Bundle> default_bundle();

// A short JSON summary for status output: revision, table sizes, options, sources.
Json bundle_summary(const Bundle& b);

}  // namespace dive::policy
