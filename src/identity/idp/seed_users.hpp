#pragma once
// The realm's seeded users, from data/seed.json: testuser-<ccc>-1..5
// (UNCLASSIFIED .. TOP_SECRET with the COIs listed there), admin-<ccc> (roles user, admin, super_admin) and
// the industry users whose country is this instance. The hub takes the hub script's attributes, spokes the
// spoke script's (Terraform's where the script has none). Every seeded user has TOTP enrolled.
#include <pqxx/connection>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "identity/idp/password_hash.hpp"
#include "identity/idp/user.hpp"

namespace dive::identity::idp {

enum class AccountKind { Test, Admin, Industry };

struct SeedAccount {
  std::string username;
  UserAttributes attrs;
  AccountKind kind = AccountKind::Test;
};

// Pure: the accounts for instance `code` (upper case) named `instance_name`. Throws std::runtime_error
// when seed.json lacks the users section.
std::vector<SeedAccount> seed_accounts(const Json& seed, const std::string& code,
                                       const std::string& instance_name);

struct SeedSecrets {
  std::string test_user_password, admin_password, kek;
};

// Inserts the accounts that do not exist yet (passwords hashed with `argon2`, a fresh TOTP seed each).
// Existing users are left alone, so a restart changes nothing. Returns the number inserted.
int seed_realm(pqxx::connection& c, const std::vector<SeedAccount>& accounts, const SeedSecrets& secrets,
               const Argon2Params& argon2);

}  // namespace dive::identity::idp
