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

// {"subject":..., "action": {"operation": op}, "resource": resource, "context": {...}} — its decision-cache
// key is a DecisionKey (decision_key.hpp).
Json build_input(const identity::VerifiedToken& t, std::string_view operation, Json resource,
                 const InputContext& ctx);

// The canonical level (0 UNCLASSIFIED .. 4 TOP_SECRET) of a canonical clearance name, or -1 for anything
// else (a national term: only the PDP can rank it).
int canonical_level(std::string_view clearance);

}  // namespace dive::access
