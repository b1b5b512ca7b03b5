#pragma once
// Shared helpers for the policy engine tests.
#include <memory>
#include <string>

#include "common/fs.hpp"
#include "common/json.hpp"
#include "policy/bundle.hpp"
#include "policy/engine.hpp"
#include "policy/input.hpp"

namespace dive::policy::test {

inline std::string data_file(const std::string& name) {
  return std::string(DIVE_POLICY_DATA_DIR) + "/" + name;
}

inline Json load_json(const std::string& path) {
  return Json::parse(read_file(path));
}

// data/policy-bundle.json, parsed once.
inline const Bundle& sample_bundle() {
  static const std::shared_ptr<const Bundle> b = parse_bundle(load_json(data_file("policy-bundle.json")));
  return *b;
}

// The sample bundle with policy_options replaced.
inline std::shared_ptr<const Bundle> sample_with_options(const Json& options) {
  Json doc = load_json(data_file("policy-bundle.json"));
  doc["policy_options"] = options;
  return parse_bundle(doc);
}

// A complete input that the sample bundle allows: a USA SECRET user reading a SECRET document.
inline Json base_input() {
  return Json::parse(R"({
    "subject": {"authenticated": true, "uniqueID": "testuser-usa-4", "clearance": "SECRET",
                "countryOfAffiliation": "USA", "acpCOI": ["NATO"]},
    "action": {"operation": "get"},
    "resource": {"resourceId": "doc-1", "classification": "SECRET", "releasabilityTo": ["USA", "GBR"],
                 "COI": [], "encrypted": false},
    "context": {"currentTime": "2026-01-21T10:00:00Z", "requestId": "req-1"}})");
}

// Evaluates `input` (the value of "input") and returns the decision document.
inline Json decide(const Json& input, const Bundle& bundle = sample_bundle()) {
  return evaluate_json(input, bundle);
}

inline Decision decide_struct(const Json& input, const Bundle& bundle, const PolicyOptions& options) {
  return evaluate(input_from_json(input), bundle, options);
}

inline PolicyOptions original_options() {
  PolicyOptions o;
  o.coi_requires_membership = false;
  o.canonical_clearance_any_country = false;
  o.case_insensitive_clearance_terms = false;
  return o;
}

}  // namespace dive::policy::test
