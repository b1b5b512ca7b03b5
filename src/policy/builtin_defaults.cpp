#include <stdexcept>

#include "policy/builtin_data.hpp"

namespace dive::policy::builtin {
namespace {

Json assemble() {
  const Json clearance = Json::parse(kClearanceJson);
  const Json coi = Json::parse(kCoiJson);
  const Json iso = Json::parse(kIso3166Json);
  const Json federation = Json::parse(kFederationJson);
  const Json issuers = Json::parse(kIssuersJson);
  Json out = Json::object();
  out["classification_equivalency"] = clearance.at("equivalency");
  out["coi_members"] = coi.at("members");
  out["country_codes"] = iso.at("codes");
  out["trusted_issuers"] = issuers.at("trusted_issuers");
  out["federation_matrix"] = federation.at("rego_defaults_when_data_absent").at("federation_matrix");
  return out;
}

}  // namespace

const Json& defaults() {
  static const Json doc = assemble();
  return doc;
}

}  // namespace dive::policy::builtin
