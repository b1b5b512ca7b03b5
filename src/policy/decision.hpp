#pragma once
// The decision document of dive.authz (docs/POLICY.md rule 2.10): allow, reason, obligations and
// evaluation_details. Attribute values that evaluation_details echoes are read from the Input at
// rendering time, so a Decision is rendered together with the Input it was made for.
#include <cstddef>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "policy/input.hpp"

namespace dive::policy {

inline constexpr std::string_view kAllowReason = "Access granted - all conditions satisfied";
inline constexpr std::string_view kFallbackReason = "Access denied";
inline constexpr std::string_view kDefaultKasEndpoint = "http://localhost:8080/request-key";

struct Checks {
  bool authenticated = false;
  bool required_attributes = false;
  bool clearance_sufficient = false;
  bool country_releasable = false;
  bool coi_satisfied = false;
  bool embargo_passed = false;
  bool ztdf_integrity_valid = false;
  bool upload_releasability_valid = false;
  bool authentication_strength_sufficient = false;
  bool mfa_verified = false;
  bool industry_access_allowed = false;
  bool industry_clearance_cap_ok = false;
  size_t coi_coherence_violations = 0;
  bool federation_trusted = false;
};

struct Decision {
  bool allow = false;
  std::string reason;
  bool kas_obligation = false;  // obligations = [the KAS key-release obligation]
  Checks checks;
  // Derived values reported in evaluation_details.
  std::string_view organization_type = "GOV";
  bool releasable_to_industry = false;
  bool ztdf_enabled = false;
  std::string_view aal_level = "AAL1";
  std::string subject_tenant;
  std::string current_tenant;
  bool current_tenant_from_input = false;  // it is input.context.tenant, echoed whatever its type
  bool equivalency_applied = false;
  bool equivalency_details = false;  // the six attributes are all present
};

// {"allow", "reason", "obligations", "evaluation_details"} as a Json value.
Json decision_to_json(const Decision& d, const Input& in);
// The same document as JSON text, byte-identical to decision_to_json(d, in).dump(), written
// directly (the fast path).
void append_decision_json(std::string& out, const Decision& d, const Input& in);

// JSON string literals: dive::append_json_string (common/json.hpp).
using dive::append_json_string;

}  // namespace dive::policy
