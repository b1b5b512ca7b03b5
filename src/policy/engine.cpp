#include "policy/engine.hpp"

#include "common/strings.hpp"

#include "policy/checks.hpp"
#include "policy/clearance.hpp"

namespace dive::policy {
namespace {

bool six_equivalency_attributes(const Input& in) {
  for (F f : {F::kClearanceOriginal, F::kClearanceCountry, F::kClearance, F::kOriginalClassification,
              F::kOriginalCountry, F::kClassification})
    if (!in[f].defined()) return false;
  return true;
}

}  // namespace

Decision evaluate(const Input& in, const Bundle& bundle) {
  return evaluate(in, bundle, bundle.options);
}

Decision evaluate(const Input& in, const Bundle& bundle, const PolicyOptions& options) {
  const EvalContext c{in, bundle, options};
  // Every check is evaluated: evaluation_details reports each of them.
  Violation authn = not_authenticated(c);
  Violation attrs = missing_required_attributes(c);
  Violation clearance = insufficient_clearance(c);
  Violation aal = authentication_strength_insufficient(c);
  Violation mfa = mfa_not_verified(c);
  Violation upload = upload_not_releasable(c);
  Violation releasable = not_releasable_to_country(c);
  Violation coi = coi_violation(c);
  Violation embargo = under_embargo(c);
  Violation ztdf = ztdf_integrity_violation(c);
  Violation industry = industry_access_blocked(c);
  Violation cap = industry_clearance_exceeded(c);
  const std::vector<std::string> coherence = coi_coherence_violations(c);
  const Federation fed = federation(c);

  Decision d;
  Checks& k = d.checks;
  k.authenticated = !authn;
  k.required_attributes = !attrs;
  k.clearance_sufficient = !clearance;
  k.country_releasable = !releasable;
  k.coi_satisfied = !coi;
  k.embargo_passed = !embargo;
  k.ztdf_integrity_valid = !ztdf;
  k.upload_releasability_valid = !upload;
  k.authentication_strength_sufficient = !aal;
  k.mfa_verified = !mfa;
  k.industry_access_allowed = !industry;
  k.industry_clearance_cap_ok = !cap;
  k.coi_coherence_violations = coherence.size();
  k.federation_trusted = fed.passes();

  d.allow = k.authenticated && k.required_attributes && k.clearance_sufficient && k.country_releasable &&
            k.coi_satisfied && k.embargo_passed && k.ztdf_integrity_valid && k.upload_releasability_valid &&
            k.authentication_strength_sufficient && k.mfa_verified && k.industry_access_allowed &&
            k.industry_clearance_cap_ok && coherence.empty() && k.federation_trusted;

  // Reason: the first that applies, in the original's priority order.
  if (d.allow) {
    d.reason = kAllowReason;
  } else {
    for (Violation* v : {&authn, &attrs, &clearance, &aal, &mfa, &upload, &releasable, &coi, &embargo, &ztdf,
                         &industry, &cap}) {
      if (*v) {
        d.reason = std::move(**v);
        break;
      }
    }
    if (d.reason.empty()) {
      if (!coherence.empty())
        d.reason = dive::join(coherence, "; ");
      else if (fed.issuer_present && !fed.trusted)
        d.reason = "Untrusted token issuer: " + sprintf_arg(in[F::kIssuer], 's');
      else if (fed.issuer_present && !fed.can_access)
        d.reason = "Federation denied: " + fed.subject_tenant + " cannot access " +
                   current_tenant_text(fed, in) + " resources";
      else
        d.reason = kFallbackReason;
    }
  }

  d.kas_obligation = d.allow && in[F::kEncrypted].is_true() && in[F::kResourceId].defined();
  d.organization_type = resolved_org_type(in);
  d.releasable_to_industry = resolved_industry_allowed(in);
  d.ztdf_enabled = ztdf_enabled(in);
  d.aal_level = aal_level(in);
  d.subject_tenant = fed.subject_tenant;
  d.current_tenant = fed.current_tenant;
  d.current_tenant_from_input = fed.tenant_from_input;
  d.equivalency_applied = equivalency_applied(c);
  d.equivalency_details = d.equivalency_applied && six_equivalency_attributes(in);
  return d;
}

Json evaluate_json(const Json& input, const Bundle& bundle) {
  const Input in = input_from_json(input);
  return decision_to_json(evaluate(in, bundle), in);
}

}  // namespace dive::policy
