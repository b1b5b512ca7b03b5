#include "identity/idp/user_store.hpp"

#include <pqxx/pqxx>

#include "identity/idp/json_strings.hpp"

namespace dive::identity::idp {

namespace {

constexpr const char* kColumns =
    "id::text, username, unique_id, email, first_name, last_name, clearance, country, acp_coi::text, "
    "organization_type, duty_org, org_unit, roles::text, enabled, password_hash, totp_secret_enc, "
    "totp_last_step, failed_logins, (extract(epoch from locked_until) * 1000)::bigint";

User user_from_row(const pqxx::row& r) {
  User u;
  u.id = r[0].as<std::string>();
  u.username = r[1].as<std::string>();
  UserAttributes& a = u.attrs;
  a.unique_id = r[2].as<std::string>();
  a.email = r[3].as<std::string>();
  a.first_name = r[4].as<std::string>();
  a.last_name = r[5].as<std::string>();
  a.clearance = r[6].as<std::string>();
  a.country = r[7].as<std::string>();
  a.acp_coi = json_strings(r[8].as<std::string>());
  a.organization_type = r[9].as<std::string>();
  a.duty_org = r[10].as<std::string>();
  a.org_unit = r[11].as<std::string>();
  a.roles = json_strings(r[12].as<std::string>());
  u.enabled = r[13].as<bool>();
  u.password_hash = r[14].as<std::string>();
  if (!r[15].is_null()) u.totp_secret_enc = r[15].as<std::string>();
  if (!r[16].is_null()) u.totp_last_step = r[16].as<int64_t>();
  u.lockout.failures = r[17].as<int>();
  if (!r[18].is_null()) u.lockout.locked_until_ms = r[18].as<int64_t>();
  return u;
}

std::optional<User> find_by(pqxx::connection& c, const std::string& where, const std::string& value) {
  pqxx::nontransaction tx(c);
  auto res = tx.exec_params(std::string("SELECT ") + kColumns + " FROM idp_users WHERE " + where, value);
  if (res.empty()) return std::nullopt;
  return user_from_row(res[0]);
}

}  // namespace

std::optional<User> find_user_by_username(pqxx::connection& c, const std::string& username) {
  return find_by(c, "username = $1", username);
}

std::optional<User> find_user_by_id(pqxx::connection& c, const std::string& id) {
  // A malformed UUID is simply nobody (the cast would fail).
  return find_by(c, "id::text = $1 AND $1 ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'",
                 id);
}

std::vector<User> list_users(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  std::vector<User> out;
  for (const auto& r : tx.exec(std::string("SELECT ") + kColumns + " FROM idp_users ORDER BY username"))
    out.push_back(user_from_row(r));
  return out;
}

bool record_login_failure(pqxx::connection& c, const std::string& user_id, const Lockout& lockout) {
  pqxx::work tx(c);
  auto res = tx.exec_params(
      "SELECT failed_logins, (extract(epoch from locked_until) * 1000)::bigint FROM idp_users "
      "WHERE id::text = $1 FOR UPDATE",
      user_id);
  if (res.empty()) return false;
  LockoutState s;
  s.failures = res[0][0].as<int>();
  if (!res[0][1].is_null()) s.locked_until_ms = res[0][1].as<int64_t>();
  bool locked_now = false;
  LockoutState next = lockout.after_failure(s, &locked_now);
  std::optional<int64_t> until = next.locked_until_ms;
  tx.exec_params(
      "UPDATE idp_users SET failed_logins = $2, last_failure_at = now(), "
      "locked_until = CASE WHEN $3::bigint IS NULL THEN NULL ELSE to_timestamp($3::bigint / 1000.0) END, "
      "updated_at = now() WHERE id::text = $1",
      user_id, next.failures, until);
  tx.commit();
  return locked_now;
}

void record_login_success(pqxx::connection& c, const std::string& user_id,
                          const std::optional<std::string>& rehash) {
  pqxx::work tx(c);
  tx.exec_params(
      "UPDATE idp_users SET failed_logins = 0, locked_until = NULL, "
      "password_hash = COALESCE($2::text, password_hash), "
      "password_changed_at = CASE WHEN $2::text IS NULL THEN password_changed_at ELSE now() END, "
      "updated_at = now() WHERE id::text = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL OR "
      "$2::text IS "
      "NOT NULL)",
      user_id, rehash);
  tx.commit();
}

bool accept_totp_step(pqxx::connection& c, const std::string& user_id, int64_t step) {
  pqxx::work tx(c);
  auto res = tx.exec_params(
      "UPDATE idp_users SET totp_last_step = $2 WHERE id::text = $1 "
      "AND (totp_last_step IS NULL OR totp_last_step < $2) RETURNING id",
      user_id, step);
  tx.commit();
  return !res.empty();
}

bool insert_user_if_absent(pqxx::connection& c, const User& u) {
  const UserAttributes& a = u.attrs;
  pqxx::work tx(c);
  auto res = tx.exec_params(
      "INSERT INTO idp_users (username, unique_id, email, first_name, last_name, clearance, country, "
      "acp_coi, "
      "organization_type, duty_org, org_unit, roles, enabled, password_hash, totp_secret_enc) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12::jsonb, $13, $14, $15) "
      "ON CONFLICT (username) DO NOTHING RETURNING id",
      u.username, a.unique_id, a.email, a.first_name, a.last_name, a.clearance, a.country,
      Json(a.acp_coi).dump(), a.organization_type, a.duty_org, a.org_unit, Json(a.roles).dump(), u.enabled,
      u.password_hash, u.totp_secret_enc);
  tx.commit();
  return !res.empty();
}

}  // namespace dive::identity::idp
