#include "ztdf/pdp_input.hpp"

namespace dive::ztdf {

Json resource_attributes(const Policy& policy) {
  const SecurityLabel& l = policy.label;
  return Json{{"resourceId", policy.object_id},
              {"classification", to_string(l.classification)},
              {"releasabilityTo", l.releasability_to},
              {"COI", l.coi},
              {"coiOperator", to_string(l.coi_operator)},
              {"caveats", l.caveats},
              {"creationDate", l.creation_date},
              {"encrypted", true},
              {"releasableToIndustry", l.releasable_to_industry},
              {"originalClassification",
               l.original_classification.value_or(std::string(to_string(l.classification)))},
              {"originalCountry", l.originating_country}};
}

Json ztdf_attributes(const Object& object, const ValidationReport& report) {
  return Json{{"integrityValidated", report.ok()},
              {"policyHash", object.payload.integrity.policy_hash},
              {"payloadHash", object.payload.integrity.payload_hash}};
}

Json resource_attributes(const Object& object, const ValidationReport& report) {
  Json j = resource_attributes(object.policy);
  if (!object.key_access.empty()) j["kasUrl"] = object.key_access.front().url;
  j["ztdf"] = ztdf_attributes(object, report);
  return j;
}

}  // namespace dive::ztdf
