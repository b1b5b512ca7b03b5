#pragma once
// Internal to dive_ztdf: the cryptographic primitives on OpenSSL EVP.
#include <optional>
#include <string>
#include <string_view>

#include "ztdf/keys.hpp"

namespace dive::ztdf::detail {

inline constexpr size_t kGcmIvBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;

struct GcmSealed {
  std::string ciphertext;
  std::string tag;  // 16 bytes
};

// AES-256-GCM with a 12-byte IV and additional authenticated data.
GcmSealed aes_gcm_seal(const DataKey& key, std::string_view iv, std::string_view aad,
                       std::string_view plaintext);
// nullopt when the tag does not authenticate (wrong key, IV, AAD, ciphertext or tag).
std::optional<std::string> aes_gcm_open(const DataKey& key, std::string_view iv, std::string_view aad,
                                        std::string_view ciphertext, std::string_view tag);

// HMAC-SHA256, raw 32 bytes.
std::string hmac_sha256(std::string_view key, std::string_view message);

// RSA-OAEP with SHA-256 and MGF1-SHA-256, no label ("RSA-OAEP-256" in JOSE terms).
std::string rsa_oaep_wrap(const PublicKey& key, std::string_view secret);
// nullopt when the ciphertext does not decrypt under this key (wrong key, replaced or corrupted ciphertext).
std::optional<std::string> rsa_oaep_unwrap(const PrivateKey& key, std::string_view wrapped);

}  // namespace dive::ztdf::detail
