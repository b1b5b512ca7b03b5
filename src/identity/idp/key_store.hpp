#pragma once
// The realm's RS256 signing keys in PostgreSQL (table idp_signing_keys). Exactly one key is active; its
// private half is stored only as encrypt_private_key(pem, kek, kid) (identity/key_crypto.hpp). Rotation
// adds a new active key and retires the old one, erasing its private half; a retired key stays published
// (in the JWKS) for `publish_window_s`, so that every token it signed can still be verified until it
// expires.
#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "identity/keys.hpp"

namespace dive::identity::idp {

// Creates an active key when there is none (concurrent callers create one between them). True when
// this call created it.
bool ensure_active_key(pqxx::connection& c, const std::string& kek);
// A new active key; the previous one is retired. Returns the new kid.
std::string rotate_signing_key(pqxx::connection& c, const std::string& kek);

struct KeySet {
  std::optional<SigningKey> active;
  std::vector<VerifyKey> published;  // active first, then retired keys still within the window
  std::string version;               // changes whenever the set changes
};

// The active key (decrypted with kek) and the keys to publish. Throws KeyCryptoError when the active
// key cannot be decrypted (wrong kek).
KeySet load_key_set(pqxx::connection& c, const std::string& kek, int64_t publish_window_s);

}  // namespace dive::identity::idp
