#pragma once
// National clearance equivalency (docs/POLICY.md rule 2.4) and the clearance check's six-branch
// else-chain (rule 2.3), with the two clearance-related deliberate differences.
#include <optional>
#include <string_view>

#include "policy/checks.hpp"

namespace dive::policy {

// get_nato_level(term, country): the NATO rank 0..4, or nullopt for Rego's null. Lookup order:
// table[country][upper(term)] (keys upper-cased too with case_insensitive_clearance_terms), then the
// English canonical names for any country (canonical_clearance_any_country), then the NATO level
// names written with spaces or dashes. A non-string term gives null.
std::optional<int> nato_level(const EvalContext& c, const Field& term, const Field& country);

// All of clearanceOriginal, clearanceCountry, originalClassification, originalCountry present and
// non-null: the equivalency (branch 1) decides.
bool uses_equivalency(const Input& in);

}  // namespace dive::policy
