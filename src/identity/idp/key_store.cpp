#include "identity/idp/key_store.hpp"

#include <pqxx/pqxx>

#include "identity/key_crypto.hpp"

namespace dive::identity::idp {

namespace {
constexpr int64_t kKeyLock = 0x0D1E1D90;  // serialises key creation and rotation across processes

std::string insert_active(pqxx::work& tx, const std::string& kek) {
  SigningKey k = SigningKey::generate_rsa(2048);
  tx.exec_params(
      "INSERT INTO idp_signing_keys (kid, alg, public_pem, private_key_enc, created_at) "
      "VALUES ($1, 'RS256', $2, $3, now())",
      k.kid(), k.public_key().to_pem(), encrypt_private_key(k.to_pem(), kek, k.kid()));
  return k.kid();
}
}  // namespace

bool ensure_active_key(pqxx::connection& c, const std::string& kek) {
  pqxx::work tx(c);
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", kKeyLock);
  if (!tx.exec("SELECT 1 FROM idp_signing_keys WHERE retired_at IS NULL").empty()) return false;
  insert_active(tx, kek);
  tx.commit();
  return true;
}

std::string rotate_signing_key(pqxx::connection& c, const std::string& kek) {
  pqxx::work tx(c);
  tx.exec_params("SELECT pg_advisory_xact_lock($1)", kKeyLock);
  tx.exec("UPDATE idp_signing_keys SET retired_at = now(), private_key_enc = NULL WHERE retired_at IS NULL");
  std::string kid = insert_active(tx, kek);
  tx.commit();
  return kid;
}

KeySet load_key_set(pqxx::connection& c, const std::string& kek, int64_t publish_window_s) {
  pqxx::nontransaction tx(c);
  auto rows = tx.exec_params(
      "SELECT kid, public_pem, private_key_enc FROM idp_signing_keys "
      "WHERE retired_at IS NULL OR retired_at > now() - make_interval(secs => $1) "
      "ORDER BY (retired_at IS NULL) DESC, created_at DESC",
      publish_window_s);
  KeySet s;
  for (const auto& r : rows) {
    std::string kid = r[0].as<std::string>();
    s.version += kid + ";";
    if (!r[2].is_null() && !s.active) {
      s.active = SigningKey::from_pem(decrypt_private_key(r[2].as<std::string>(), kek, kid), Alg::RS256, kid);
      s.published.push_back(s.active->public_key());
    } else {
      s.published.push_back(VerifyKey::from_pem(r[1].as<std::string>(), kid, Alg::RS256));
    }
  }
  return s;
}

}  // namespace dive::identity::idp
