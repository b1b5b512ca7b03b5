#include "identity/idp/grant_store.hpp"

#include <pqxx/pqxx>

#include "common/encoding.hpp"
#include "common/json.hpp"
#include "common/random.hpp"
#include "identity/idp/json_strings.hpp"

namespace dive::identity::idp {

namespace {

std::optional<std::string> nonempty(const std::string& s) {
  if (s.empty()) return std::nullopt;
  return s;
}

std::string insert_refresh(pqxx::work& tx, const NewRefreshToken& t, std::string& family_id) {
  std::string token = secure_token(32);
  family_id =
      t.family_id.empty() ? tx.exec("SELECT gen_random_uuid()::text")[0][0].as<std::string>() : t.family_id;
  tx.exec_params(
      "INSERT INTO idp_refresh_tokens (token_sha256, family_id, user_id, client_id, scope, auth_time, amr, "
      "session_started_at, issued_at, expires_at, access_jti, access_exp) VALUES ($1, $2::uuid, $3::uuid, "
      "$4, $5, "
      "$6, $7::jsonb, to_timestamp($8::bigint / 1000.0), now(), to_timestamp($9::bigint / 1000.0), $10, $11)",
      sha256_hex(token), family_id, t.user_id, t.client_id, t.scope, t.auth_time, Json(t.amr).dump(),
      t.session_started_ms, t.expires_ms, nonempty(t.access_jti), t.access_exp);
  return token;
}

AccessRefs revoke_where(pqxx::connection& c, const std::string& where, const std::string& value,
                        const std::string& reason) {
  pqxx::work tx(c);
  auto rows = tx.exec_params("UPDATE idp_refresh_tokens SET revoked_at = now(), revoke_reason = $2 WHERE " +
                                 where + " AND revoked_at IS NULL RETURNING access_jti, access_exp",
                             value, reason);
  tx.commit();
  AccessRefs out;
  int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  for (const auto& r : rows)
    if (!r[0].is_null() && !r[1].is_null() && r[1].as<int64_t>() > now)
      out.emplace_back(r[0].as<std::string>(), r[1].as<int64_t>());
  return out;
}

}  // namespace

std::string store_auth_code(pqxx::connection& c, const AuthCode& code, int64_t ttl_s) {
  std::string raw = secure_token(32);
  pqxx::work tx(c);
  tx.exec_params(
      "INSERT INTO idp_auth_codes (code_sha256, client_id, user_id, redirect_uri, code_challenge, nonce, "
      "scope, "
      "auth_time, amr, expires_at) VALUES ($1, $2, $3::uuid, $4, $5, $6, $7, $8, $9::jsonb, "
      "now() + make_interval(secs => $10))",
      sha256_hex(raw), code.client_id, code.user_id, code.redirect_uri, code.code_challenge,
      nonempty(code.nonce), code.scope, code.auth_time, Json(code.amr).dump(), ttl_s);
  tx.commit();
  return raw;
}

ConsumedCode consume_auth_code(pqxx::connection& c, const std::string& code) {
  ConsumedCode out;
  out.hash = sha256_hex(code);
  pqxx::work tx(c);
  // The row lock makes concurrent exchanges of one code take turns: only the first sees it unused.
  auto rows = tx.exec_params(
      "SELECT client_id, user_id::text, redirect_uri, code_challenge, COALESCE(nonce, ''), scope, auth_time, "
      "amr::text, expires_at <= now(), used_at IS NOT NULL, COALESCE(family_id::text, '') "
      "FROM idp_auth_codes WHERE code_sha256 = $1 FOR UPDATE",
      out.hash);
  tx.exec_params("UPDATE idp_auth_codes SET used_at = now() WHERE code_sha256 = $1 AND used_at IS NULL",
                 out.hash);
  tx.commit();
  if (rows.empty()) return out;
  const auto& r = rows[0];
  AuthCode& a = out.code;
  a.client_id = r[0].as<std::string>();
  a.user_id = r[1].as<std::string>();
  a.redirect_uri = r[2].as<std::string>();
  a.code_challenge = r[3].as<std::string>();
  a.nonce = r[4].as<std::string>();
  a.scope = r[5].as<std::string>();
  a.auth_time = r[6].as<int64_t>();
  a.amr = json_strings(r[7].as<std::string>());
  out.family_id = r[10].as<std::string>();
  if (r[9].as<bool>())
    out.state = CodeState::Used;
  else if (r[8].as<bool>())
    out.state = CodeState::Expired;
  else
    out.state = CodeState::Ok;
  return out;
}

void attach_code_family(pqxx::connection& c, const std::string& code_hash, const std::string& family_id) {
  pqxx::work tx(c);
  tx.exec_params("UPDATE idp_auth_codes SET family_id = $2::uuid WHERE code_sha256 = $1", code_hash,
                 family_id);
  tx.commit();
}

StoredRefresh store_refresh_token(pqxx::connection& c, const NewRefreshToken& t) {
  pqxx::work tx(c);
  StoredRefresh s;
  s.token = insert_refresh(tx, t, s.family_id);
  tx.commit();
  return s;
}

std::optional<RefreshRecord> find_refresh_token(pqxx::connection& c, const std::string& token) {
  pqxx::nontransaction tx(c);
  auto rows = tx.exec_params(
      "SELECT family_id::text, user_id::text, client_id, scope, auth_time, amr::text, "
      "(extract(epoch from session_started_at) * 1000)::bigint, (extract(epoch from expires_at) * "
      "1000)::bigint, "
      "rotated_at IS NOT NULL, revoked_at IS NOT NULL, "
      "(SELECT (extract(epoch from min(f.issued_at)) * 1000)::bigint FROM idp_refresh_tokens f "
      "WHERE f.family_id = t.family_id) "
      "FROM idp_refresh_tokens t WHERE token_sha256 = $1",
      sha256_hex(token));
  if (rows.empty()) return std::nullopt;
  const auto& r = rows[0];
  RefreshRecord rec;
  rec.family_id = r[0].as<std::string>();
  rec.user_id = r[1].as<std::string>();
  rec.client_id = r[2].as<std::string>();
  rec.scope = r[3].as<std::string>();
  rec.auth_time = r[4].as<int64_t>();
  rec.amr = json_strings(r[5].as<std::string>());
  rec.session_started_ms = r[6].as<int64_t>();
  rec.expires_ms = r[7].as<int64_t>();
  rec.rotated = r[8].as<bool>();
  rec.revoked = r[9].as<bool>();
  rec.family_issued_ms = r[10].is_null() ? rec.session_started_ms : r[10].as<int64_t>();
  return rec;
}

std::optional<StoredRefresh> rotate_refresh_token(pqxx::connection& c, const std::string& token,
                                                  const NewRefreshToken& successor) {
  pqxx::work tx(c);
  auto rows = tx.exec_params(
      "UPDATE idp_refresh_tokens SET rotated_at = now() WHERE token_sha256 = $1 AND rotated_at IS NULL "
      "AND revoked_at IS NULL RETURNING family_id::text",
      sha256_hex(token));
  if (rows.empty()) return std::nullopt;
  NewRefreshToken next = successor;
  next.family_id = rows[0][0].as<std::string>();
  StoredRefresh s;
  s.token = insert_refresh(tx, next, s.family_id);
  tx.commit();
  return s;
}

AccessRefs revoke_family(pqxx::connection& c, const std::string& family_id, const std::string& reason) {
  return revoke_where(c, "family_id::text = $1", family_id, reason);
}

AccessRefs revoke_user_families(pqxx::connection& c, const std::string& user_id, const std::string& reason) {
  return revoke_where(c, "user_id::text = $1", user_id, reason);
}

}  // namespace dive::identity::idp
