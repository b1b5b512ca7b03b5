#pragma once
// TOTP seeds at rest: 20 random bytes (RFC 4226's recommended length for SHA-1), stored AES-256-GCM
// encrypted under the idp key-encryption key, bound to the username (a ciphertext copied to another user's
// row does not decrypt).
#include <string>

namespace dive::identity::idp {

std::string new_totp_seed();  // 20 random bytes
std::string encrypt_totp_seed(const std::string& seed, const std::string& kek, const std::string& username);
// Throws identity::KeyCryptoError when the kek or the username does not match.
std::string decrypt_totp_seed(const std::string& stored, const std::string& kek, const std::string& username);

}  // namespace dive::identity::idp
