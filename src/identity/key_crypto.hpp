#pragma once
// Encryption at rest of private signing keys (the IdP keeps them in its database, encrypted with a
// 32-byte key from secrets.json).
//
//   std::string stored = encrypt_private_key(sk.to_pem(), master_key);      // to the database
//   SigningKey sk2 = SigningKey::from_pem(decrypt_private_key(stored, master_key));
//
// Format (text, safe in a TEXT column): "dive-key:v1:" + base64url(iv[12] || ciphertext || tag[16]),
// AES-256-GCM with a random 96-bit IV per encryption. The additional authenticated data is the version
// prefix plus the optional `context` (e.g. the key's kid), so a ciphertext moved to another row with a
// different context does not decrypt. A wrong key, a changed byte or a wrong context is a KeyCryptoError.
#include <stdexcept>
#include <string>
#include <string_view>

namespace dive::identity {

class KeyCryptoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::string_view kEncryptedKeyPrefix = "dive-key:v1:";

// `key` must be exactly 32 raw bytes (std::invalid_argument otherwise).
std::string encrypt_private_key(std::string_view pem, std::string_view key, std::string_view context = {});
std::string decrypt_private_key(std::string_view encrypted, std::string_view key,
                                std::string_view context = {});
// True when `text` looks like the output of encrypt_private_key (any version this build reads).
bool is_encrypted_private_key(std::string_view text);

}  // namespace dive::identity
