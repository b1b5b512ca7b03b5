#pragma once
// The 14 checks of the decision (docs/POLICY.md rule 2), each a pure function of the input and
// the bundle returning the violation message when the check fails. Every check is evaluated with the
// original's Rego semantics, including its handling of absent attributes (a rule whose message would
// use an absent attribute does not fire), because evaluation_details reports all of them.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/bundle.hpp"
#include "policy/input.hpp"

namespace dive::policy {

struct EvalContext {
  const Input& in;
  const Bundle& bundle;
  const PolicyOptions& options;
};

using Violation = std::optional<std::string>;

Violation not_authenticated(const EvalContext& c);
Violation missing_required_attributes(const EvalContext& c);
Violation insufficient_clearance(const EvalContext& c);  // clearance.cpp
Violation not_releasable_to_country(const EvalContext& c);
Violation coi_violation(const EvalContext& c);  // coi.cpp
Violation under_embargo(const EvalContext& c);
Violation ztdf_integrity_violation(const EvalContext& c);
Violation upload_not_releasable(const EvalContext& c);
Violation authentication_strength_insufficient(const EvalContext& c);
Violation mfa_not_verified(const EvalContext& c);
Violation industry_access_blocked(const EvalContext& c);
Violation industry_clearance_exceeded(const EvalContext& c);
// The COI coherence messages, sorted and unique (a Rego set); any one denies. coi.cpp.
std::vector<std::string> coi_coherence_violations(const EvalContext& c);

// Trusted issuer and federation matrix (docs/POLICY.md rule 2.9).
struct Federation {
  bool issuer_present = false;
  bool trusted = false;
  std::string subject_tenant;  // the issuer's tenant, "UNKNOWN" otherwise
  // context.tenant (any value: tenant_from_input, and current_tenant holds it when it is a string), else
  // the issuer's tenant, else tenant_id, else "USA".
  std::string current_tenant;
  bool tenant_from_input = false;
  bool can_access = false;  // trusted and can_federate(subject_tenant, current_tenant)
  bool passes() const { return !issuer_present || can_access; }
};
Federation federation(const EvalContext& c);
// current_tenant as sprintf's %s prints it.
std::string current_tenant_text(const Federation& f, const Input& in);

// Helpers shared with evaluation_details.
std::string_view resolved_org_type(const Input& in);  // GOV, MIL or INDUSTRY (GOV otherwise)
bool resolved_industry_allowed(const Input& in);
std::string acr_text(const Field& acr);          // sprintf("%v", [acr])
size_t amr_factor_count(const Field& amr);       // count(parse_amr(amr)) of a defined amr
std::string_view aal_level(const Input& in);     // AAL1..AAL3 (informational)
bool equivalency_applied(const EvalContext& c);  // clearance.cpp
bool ztdf_enabled(const Input& in);              // input.resource.ztdf is truthy

// One sprintf argument as OPA renders it for verb 's', 'v' or 'd' (Field must be defined; any type).
std::string sprintf_arg(const Field& f, char verb);

}  // namespace dive::policy
