#pragma once
// A realm user as the identity provider keeps it (table idp_users) and the attributes its tokens carry.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "identity/idp/lockout.hpp"

namespace dive::identity::idp {

struct UserAttributes {
  std::string unique_id;  // uniqueID claim (= username for seeded users)
  std::string email, first_name, last_name;
  std::string clearance;  // UNCLASSIFIED .. TOP_SECRET
  std::string country;    // countryOfAffiliation (ISO 3166 alpha-3)
  std::vector<std::string> acp_coi;
  std::string organization_type = "GOV";
  std::string duty_org, org_unit;
  std::vector<std::string> roles{"user"};
};

struct User {
  std::string id;        // UUID, the tokens' "sub"
  std::string username;  // lower case, the tokens' "preferred_username"
  UserAttributes attrs;
  bool enabled = true;
  std::string password_hash;                   // argon2id PHC string
  std::optional<std::string> totp_secret_enc;  // encrypted RFC 6238 seed; nullopt: no TOTP enrolled
  std::optional<int64_t> totp_last_step;
  LockoutState lockout;

  bool has_totp() const { return totp_secret_enc.has_value(); }
};

// The DIVE identity claims of a user (uniqueID, clearance, countryOfAffiliation, acpCOI, organizationType,
// dutyOrg, orgUnit, roles, preferred_username, name and email members), shared by access tokens, ID
// tokens, userinfo and introspection.
Json identity_claims(const User& u);

// One row of `./dive hub users`: the attributes, never a secret (no hash, no TOTP seed).
Json user_summary(const User& u, int64_t now_ms);

}  // namespace dive::identity::idp
