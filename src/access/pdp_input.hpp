#pragma once
// The complete PDP input (docs/POLICY.md "Input") that the api (PEP) and the kas send: the subject
// from the verified token, the action, the resource attributes from the stored (bound) label, and the
// context (time, acr/amr/auth_time of the presented token, tenant, request id). Nothing comes from the
// caller's request body except what an upload declares about itself.
#include <chrono>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "identity/verified_token.hpp"

namespace dive::access {

// {authenticated, uniqueID, clearance, countryOfAffiliation, acpCOI, organizationType, dutyOrg, orgUnit,
//  issuer[, clearanceOriginal, clearanceCountry]}; an absent claim stays absent (the policy names it).
Json subject_from_token(const identity::VerifiedToken& t);

struct InputContext {
  std::string tenant;  // this instance's code
  std::string request_id;
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
};

// {"subject":..., "action": {"operation": op}, "resource": resource, "context": {...}}
Json build_input(const identity::VerifiedToken& t, std::string_view operation, Json resource,
                 const InputContext& ctx);

// The decision-cache key (DecisionCache::key_of) of build_input(t, operation, resource, ctx), without
// building the input: the key's text is {"action":…,"context":…,"resource":…,"subject":…} (members in
// name order, context without currentTime and requestId), and only the resource part differs between the
// documents of one request. So the rest is written once per request and the resource's text once per
// stored object (ParsedObject::resource_text). Equal to key_of(build_input(...)) by construction; the
// unit tests hold it to that.
class InputKey {
 public:
  InputKey(const identity::VerifiedToken& t, std::string_view operation, const InputContext& ctx);
  std::string key_for(std::string_view resource_text) const;  // resource_text = resource.dump()

 private:
  std::string head_, tail_;
};

// The canonical level (0 UNCLASSIFIED .. 4 TOP_SECRET) of a canonical clearance name, or -1 for anything
// else (a national term: only the PDP can rank it).
int canonical_level(std::string_view clearance);

}  // namespace dive::access
