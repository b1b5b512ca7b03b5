#pragma once
// The KAS key pairs of an instance, in its database (table kas_keys, migration 005): one active key that
// new documents are wrapped to, and retired keys kept for unwrapping older documents. Private keys are
// encrypted at rest (identity/key_crypto.hpp, AES-256-GCM under secrets.json's kas_key_encryption_key,
// with the kid as context). Used by the kas service (unwrapping), the seeder and the api (wrapping).
#include <pqxx/connection>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ztdf/key_access.hpp"
#include "ztdf/keys.hpp"

namespace dive::documents {

inline constexpr int kKasKeyBits = 3072;  // RSA-OAEP-256; 128-bit security like AES-256-GCM's margin

struct KasKey {
  std::string kid;
  ztdf::PublicKey public_key;
  std::shared_ptr<const ztdf::PrivateKey> private_key;  // null when only public keys were loaded
  bool active = false;
};

// The 32-byte key from secrets.json's kas_key_encryption_key (base64url text). Throws std::runtime_error.
std::string decode_key_encryption_key(const std::string& text);

// The active key's kid and public key, creating the first key pair when there is none (safe against a
// concurrent creator: the loser reads the winner's key).
KasKey ensure_active_kas_key(pqxx::connection& conn, std::string_view kek, int bits = kKasKeyBits);
// The active key's kid and public key, read without touching the private column (the api's database role
// may not read it, docs/SECURITY.md); nullopt until the kas has created its first key.
std::optional<KasKey> active_kas_public_key(pqxx::connection& conn);

// Every key; with_private decrypts the private keys (throws std::runtime_error naming the kid when one
// does not decrypt: a wrong kas_key_encryption_key).
std::vector<KasKey> load_kas_keys(pqxx::connection& conn, std::string_view kek, bool with_private);

// A new active key; the old one is retired (kept for unwrapping). Returns the new kid.
std::string rotate_kas_key(pqxx::connection& conn, std::string_view kek, int bits = kKasKeyBits);

// The KAS entry a document is encrypted for.
ztdf::KasPublicKey kas_public_key(const KasKey& key, const std::string& kas_url);

}  // namespace dive::documents
