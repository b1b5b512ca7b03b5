#pragma once
// The security label of a ZTDF policy (ACP-240 attributes) and its validation.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"

namespace dive::ztdf {

enum class Classification { kUnclassified, kRestricted, kConfidential, kSecret, kTopSecret };

// The canonical name used in JSON and by the policy: UNCLASSIFIED, RESTRICTED, CONFIDENTIAL, SECRET,
// TOP_SECRET.
std::string_view to_string(Classification c) noexcept;
// Canonical names; "TOP SECRET" (with a space) is accepted as well. Case-sensitive.
std::optional<Classification> parse_classification(std::string_view name) noexcept;

enum class CoiOperator { kAll, kAny };  // JSON "ALL" | "ANY"
std::string_view to_string(CoiOperator op) noexcept;

struct SecurityLabel {
  Classification classification = Classification::kUnclassified;
  std::vector<std::string> releasability_to;  // ISO 3166 alpha-3 codes ("USA"), ≥ 1, in marking order
  std::vector<std::string> coi;               // communities of interest ("FVEY", "US-ONLY")
  CoiOperator coi_operator = CoiOperator::kAll;
  std::vector<std::string> caveats;  // dissemination controls ("NOFORN")
  std::string originating_country;   // alpha-3
  std::string creation_date;         // RFC 3339 ("2026-01-21T00:00:00.000Z")
  bool releasable_to_industry = false;
  std::string display_marking;  // STANAG 4774 marking (ztdf/marking.hpp); must match the attributes
  // The national classification term of the originator ("GEHEIM"), when it differs from the canonical one.
  std::optional<std::string> original_classification;

  bool operator==(const SecurityLabel&) const = default;
};

// Limits enforced by validation (and thus by parsing).
inline constexpr size_t kMaxCountries = 256;
inline constexpr size_t kMaxCois = 64;
inline constexpr size_t kMaxCaveats = 32;
inline constexpr size_t kMaxTokenBytes = 64;

// Checks every attribute except the display marking: code formats (alpha-3 upper case), COI/caveat tokens
// ([A-Za-z0-9_-], 1..64 bytes), no duplicates, a non-empty releasabilityTo, an RFC 3339 creationDate.
// Throws FormatError with `path` + "/<member>" as the path.
void validate_label_attributes(const SecurityLabel& label, const std::string& path = "/policy/securityLabel");
// validate_label_attributes, and the display marking matches the attributes (either marking style).
void validate_label(const SecurityLabel& label, const std::string& path = "/policy/securityLabel");

// JSON form (member names as in the system we replace): classification, releasabilityTo, COI, coiOperator,
// caveats, originatingCountry, creationDate, releasableToIndustry, displayMarking, [originalClassification].
Json label_to_json(const SecurityLabel& label);
// Strict: every member present with its type, no unknown member, attributes validated (not the marking,
// which validate_structure reports as a finding). Throws FormatError.
SecurityLabel label_from_json(const Json& j, const std::string& path = "/policy/securityLabel");

// RFC 3339 date-time ("YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)").
bool is_rfc3339(std::string_view s) noexcept;

}  // namespace dive::ztdf
