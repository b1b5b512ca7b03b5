#include "access/pdp_input.hpp"

#include "ztdf/encrypt.hpp"
#include "ztdf/label.hpp"

namespace dive::access {

Json subject_from_token(const identity::VerifiedToken& t) {
  Json s = Json::object();
  s["authenticated"] = true;
  auto copy = [&](const char* claim, const char* as) {
    auto it = t.claims.find(claim);
    if (it != t.claims.end() && !it->is_null()) s[as] = *it;
  };
  copy("uniqueID", "uniqueID");
  copy("clearance", "clearance");
  copy("countryOfAffiliation", "countryOfAffiliation");
  copy("acpCOI", "acpCOI");
  copy("organizationType", "organizationType");
  copy("dutyOrg", "dutyOrg");
  copy("orgUnit", "orgUnit");
  copy("clearanceOriginal", "clearanceOriginal");
  copy("clearanceCountry", "clearanceCountry");
  s["issuer"] = t.issuer;
  return s;
}

Json build_input(const identity::VerifiedToken& t, std::string_view operation, Json resource,
                 const InputContext& ctx) {
  Json context{{"acr", t.acr}, {"amr", t.amr}, {"tenant", ctx.tenant}};
  if (t.auth_time > 0) context["auth_time"] = t.auth_time;
  context["currentTime"] = ztdf::format_timestamp(ctx.now);
  context["requestId"] = ctx.request_id;
  return Json{{"subject", subject_from_token(t)},
              {"action", {{"operation", operation}}},
              {"resource", std::move(resource)},
              {"context", std::move(context)}};
}

int canonical_level(std::string_view clearance) {
  auto c = ztdf::parse_classification(clearance);
  return c ? static_cast<int>(*c) : -1;
}

}  // namespace dive::access
