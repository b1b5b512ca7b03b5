#include "documents/kas_keys.hpp"

#include <pqxx/pqxx>
#include <stdexcept>

#include "common/encoding.hpp"
#include "identity/key_crypto.hpp"

namespace dive::documents {

std::string decode_key_encryption_key(const std::string& text) {
  auto raw = base64url_decode(text);
  if (!raw || raw->size() != 32)
    throw std::runtime_error("kas_key_encryption_key in secrets.json is not 32 bytes of base64url");
  return *raw;
}

namespace {

KasKey new_key(int bits, std::string& private_enc, std::string_view kek) {
  auto priv = std::make_shared<ztdf::PrivateKey>(ztdf::PrivateKey::generate_rsa(bits));
  KasKey k{"kas-" + priv->public_key().fingerprint().substr(0, 16), priv->public_key(), priv, true};
  private_enc = identity::encrypt_private_key(priv->to_pem(), kek, k.kid);
  return k;
}

std::vector<KasKey> read_keys(pqxx::work& tx, std::string_view kek, bool with_private, bool active_only) {
  std::vector<KasKey> out;
  auto rows =
      tx.exec(std::string("SELECT kid, public_pem, private_key_enc, retired_at IS NULL FROM kas_keys") +
              (active_only ? " WHERE retired_at IS NULL" : "") + " ORDER BY created_at DESC");
  for (const auto& r : rows) {
    std::string kid = r[0].as<std::string>();
    KasKey k{kid, ztdf::PublicKey::from_pem(r[1].as<std::string>()), nullptr, r[3].as<bool>()};
    if (with_private) {
      try {
        k.private_key = std::make_shared<ztdf::PrivateKey>(
            ztdf::PrivateKey::from_pem(identity::decrypt_private_key(r[2].as<std::string>(), kek, kid)));
      } catch (const std::exception&) {
        throw std::runtime_error(
            "KAS key " + kid + " does not decrypt with kas_key_encryption_key (was secrets.json replaced?)");
      }
    }
    out.push_back(std::move(k));
  }
  return out;
}

}  // namespace

KasKey ensure_active_kas_key(pqxx::connection& conn, std::string_view kek, int bits) {
  {
    pqxx::work tx(conn);
    auto keys = read_keys(tx, kek, false, true);
    if (!keys.empty()) return keys.front();
  }
  std::string enc;
  KasKey k = new_key(bits, enc, kek);
  pqxx::work tx(conn);
  auto r = tx.exec_params(
      "INSERT INTO kas_keys (kid, public_pem, private_key_enc) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
      k.kid, k.public_key.to_pem(), enc);
  if (r.affected_rows() == 1) {
    tx.commit();
    return k;
  }
  tx.abort();
  pqxx::work again(conn);
  auto keys = read_keys(again, kek, false, true);
  if (keys.empty()) throw std::runtime_error("no active KAS key after a concurrent creation");
  return keys.front();
}

std::optional<KasKey> active_kas_public_key(pqxx::connection& conn) {
  pqxx::work tx(conn);
  auto rows = tx.exec("SELECT kid, public_pem FROM kas_keys WHERE retired_at IS NULL");
  if (rows.empty()) return std::nullopt;
  return KasKey{rows[0][0].as<std::string>(), ztdf::PublicKey::from_pem(rows[0][1].as<std::string>()),
                nullptr, true};
}

std::vector<KasKey> load_kas_keys(pqxx::connection& conn, std::string_view kek, bool with_private) {
  pqxx::work tx(conn);
  return read_keys(tx, kek, with_private, false);
}

std::string rotate_kas_key(pqxx::connection& conn, std::string_view kek, int bits) {
  std::string enc;
  KasKey k = new_key(bits, enc, kek);
  pqxx::work tx(conn);
  tx.exec("UPDATE kas_keys SET retired_at = now() WHERE retired_at IS NULL");
  tx.exec_params("INSERT INTO kas_keys (kid, public_pem, private_key_enc) VALUES ($1, $2, $3)", k.kid,
                 k.public_key.to_pem(), enc);
  tx.commit();
  return k.kid;
}

ztdf::KasPublicKey kas_public_key(const KasKey& key, const std::string& kas_url) {
  return ztdf::KasPublicKey{kas_url, key.kid, key.public_key};
}

}  // namespace dive::documents
