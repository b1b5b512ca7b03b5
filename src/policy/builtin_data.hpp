#pragma once
// The original policy's built-in tables, compiled in from the repository's data files (data/*.json and
// src/policy/builtin_issuers.json, embedded at build time by src/policy/CMakeLists.txt). A bundle
// overrides any of them; these are what an absent registry falls back to.
#include <string_view>

#include "common/json.hpp"

namespace dive::policy::builtin {

// Raw embedded documents (defined in the generated builtin_data.cpp).
extern const std::string_view kClearanceJson;
extern const std::string_view kCoiJson;
extern const std::string_view kIso3166Json;
extern const std::string_view kFederationJson;
extern const std::string_view kIssuersJson;

// {"classification_equivalency", "coi_members", "country_codes", "trusted_issuers",
//  "federation_matrix"} assembled from the documents above; parsed once, thread-safe.
const Json& defaults();

}  // namespace dive::policy::builtin
