#pragma once
// The realm's users in PostgreSQL (table idp_users, migrations/instance/003_idp.sql). Parameterised SQL
// only. Functions take a connection so that both the idp (through its pool) and the CLI (a direct
// connection) use them.
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "identity/idp/lockout.hpp"
#include "identity/idp/user.hpp"

namespace dive::identity::idp {

std::optional<User> find_user_by_username(pqxx::connection& c, const std::string& username);
std::optional<User> find_user_by_id(pqxx::connection& c, const std::string& id);
std::vector<User> list_users(pqxx::connection& c);

// A failed login: the user's lockout state moves on (row locked while it does, so concurrent failures
// all count). Returns true when this failure started a lock.
bool record_login_failure(pqxx::connection& c, const std::string& user_id, const Lockout& lockout);
// A successful login resets the failure count; `rehash` replaces the password hash (parameters raised).
void record_login_success(pqxx::connection& c, const std::string& user_id,
                          const std::optional<std::string>& rehash);
// Marks a TOTP time step used. False when the user already used this step or a later one (a replay,
// possibly a concurrent one).
bool accept_totp_step(pqxx::connection& c, const std::string& user_id, int64_t step);

// Inserts the user unless the username exists (seeding is idempotent and never overwrites a password or
// TOTP seed an operator may have changed). Returns true when inserted.
bool insert_user_if_absent(pqxx::connection& c, const User& u);

}  // namespace dive::identity::idp
