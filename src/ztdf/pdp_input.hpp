#pragma once
// The resource part of a PDP input (docs/POLICY.md "Input") from a ZTDF object, so that the API (PEP)
// and the KAS send the same complete attributes under the same names:
//   {resourceId, classification, releasabilityTo, COI, coiOperator, caveats, creationDate, encrypted: true,
//    releasableToIndustry, originalClassification, originalCountry[, kasUrl, ztdf{...}]}
#include "common/json.hpp"
#include "ztdf/object.hpp"
#include "ztdf/validate.hpp"

namespace dive::ztdf {

// From the (bound) policy alone: what the KAS has after open_key_access().
Json resource_attributes(const Policy& policy);

// {integrityValidated: report.ok(), policyHash, payloadHash} — the `resource.ztdf` the policy checks
// ("ZTDF integrity validation failed" when integrityValidated is false).
Json ztdf_attributes(const Object& object, const ValidationReport& report);

// resource_attributes(policy) plus kasUrl (the first KAO's url) and ztdf_attributes.
Json resource_attributes(const Object& object, const ValidationReport& report);

}  // namespace dive::ztdf
