#include "identity/idp/user.hpp"

namespace dive::identity::idp {

Json identity_claims(const User& u) {
  const UserAttributes& a = u.attrs;
  Json c = {{"preferred_username", u.username},
            {"uniqueID", a.unique_id},
            {"clearance", a.clearance},
            {"countryOfAffiliation", a.country},
            {"acpCOI", a.acp_coi},
            {"organizationType", a.organization_type},
            {"dutyOrg", a.duty_org},
            {"orgUnit", a.org_unit},
            {"roles", a.roles}};
  if (!a.email.empty()) c["email"] = a.email;
  if (!a.first_name.empty()) c["given_name"] = a.first_name;
  if (!a.last_name.empty()) c["family_name"] = a.last_name;
  std::string name = a.first_name + (a.first_name.empty() || a.last_name.empty() ? "" : " ") + a.last_name;
  if (!name.empty()) c["name"] = name;
  return c;
}

Json user_summary(const User& u, int64_t now_ms) {
  Json j = identity_claims(u);
  j["username"] = u.username;
  j["sub"] = u.id;
  j["enabled"] = u.enabled;
  j["totp"] = u.has_totp();
  j["locked"] = u.lockout.locked_until_ms.has_value() && *u.lockout.locked_until_ms > now_ms;
  j["failedLogins"] = u.lockout.failures;
  return j;
}

}  // namespace dive::identity::idp
