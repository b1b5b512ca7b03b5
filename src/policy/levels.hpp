#pragma once
// The two fixed classification scales of the policy: the five canonical DIVE levels (subject
// clearances, resource classifications) and the five NATO levels that national terms map to.
#include <array>
#include <optional>
#include <string_view>

namespace dive::policy {

inline constexpr std::array<std::string_view, 5> kCanonicalLevels = {"UNCLASSIFIED", "RESTRICTED",
                                                                     "CONFIDENTIAL", "SECRET", "TOP_SECRET"};
inline constexpr std::array<std::string_view, 5> kNatoLevels = {
    "NATO_UNCLASSIFIED", "NATO_RESTRICTED", "NATO_CONFIDENTIAL", "NATO_SECRET", "COSMIC_TOP_SECRET"};

// OPA's %v of the valid_clearances set, as printed by "Invalid clearance level: %s (valid: %v)".
inline constexpr std::string_view kCanonicalSetText =
    R"({"CONFIDENTIAL", "RESTRICTED", "SECRET", "TOP_SECRET", "UNCLASSIFIED"})";

// Rank 0..4 of an exact canonical name (clearance_rank), nullopt otherwise.
std::optional<int> canonical_rank(std::string_view name);
// Rank 0..4 of an exact NATO level name, nullopt otherwise.
std::optional<int> nato_rank(std::string_view name);
// Rank of an English canonical name as the national tables spell it: the five canonical names and
// "TOP SECRET" (used by the canonical-names-for-every-country option).
std::optional<int> english_rank(std::string_view upper_name);

}  // namespace dive::policy
