#pragma once
// Key types of the ZTDF library, RAII over OpenSSL:
//  - DataKey:    the random 256-bit AES key of one document; wiped from memory when destroyed.
//  - PublicKey:  an RSA public key (≥ 2048 bits) that data keys are wrapped to (a KAS key, or the client key
//  of
//                the KAS "clientPublicKey" flow), from PEM or JWK.
//  - PrivateKey: an RSA private key (a KAS key, or a client's), PEM in/out, optionally passphrase-encrypted.
// Keys are immutable after construction and may be shared between threads. No function of this library puts
// key material into an exception message or a log.
#include <openssl/types.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace dive::ztdf {

class DataKey {
 public:
  static constexpr size_t kSize = 32;

  static DataKey generate();                          // from the OS CSPRNG (secure_random_bytes)
  static DataKey from_bytes(std::string_view bytes);  // throws KeyError unless exactly 32 bytes

  DataKey(const DataKey& other) = default;
  DataKey& operator=(const DataKey& other) = default;
  ~DataKey();

  // The raw key bytes; keep the view no longer than the key.
  std::string_view bytes() const noexcept {
    return {reinterpret_cast<const char*>(key_.data()), key_.size()};
  }
  bool operator==(const DataKey& other) const noexcept;  // constant time

 private:
  DataKey() = default;
  std::array<unsigned char, kSize> key_{};
};

inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;

class PublicKey {
 public:
  // SubjectPublicKeyInfo ("BEGIN PUBLIC KEY") or PKCS#1 ("BEGIN RSA PUBLIC KEY"). Throws KeyError.
  static PublicKey from_pem(std::string_view pem);
  // RFC 7517 RSA JWK: kty "RSA", n and e (base64url). Optional alg must be "RSA-OAEP-256", optional use
  // must be "enc"; a JWK with private members (d, p, q, ...) is refused. Throws KeyError.
  static PublicKey from_jwk(const Json& jwk);
  // The KAS "clientPublicKey" member: a PEM string, a JWK object, or a string holding a JWK's JSON text.
  static PublicKey from_client_key(const Json& value);

  std::string to_pem() const;                    // SubjectPublicKeyInfo PEM
  Json to_jwk(std::string_view kid = {}) const;  // {kty, n, e, alg: "RSA-OAEP-256", use: "enc"[, kid]}
  std::string fingerprint() const;               // hex SHA-256 of the DER SubjectPublicKeyInfo
  int bits() const noexcept;

  EVP_PKEY* native() const noexcept { return key_.get(); }  // for OpenSSL calls; owned by this object

 private:
  explicit PublicKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  friend class PrivateKey;
  std::shared_ptr<EVP_PKEY> key_;
};

class PrivateKey {
 public:
  // A new RSA key pair (kMinRsaBits..kMaxRsaBits, e = 65537). Throws KeyError / CryptoError.
  static PrivateKey generate_rsa(int bits = 3072);
  // PKCS#8 ("BEGIN PRIVATE KEY" / "BEGIN ENCRYPTED PRIVATE KEY") or PKCS#1 ("BEGIN RSA PRIVATE KEY").
  // An encrypted key needs its passphrase; a wrong passphrase is a KeyError. Never prompts.
  static PrivateKey from_pem(std::string_view pem, std::string_view passphrase = {});

  // PKCS#8 PEM; encrypted (PBES2: PBKDF2-HMAC-SHA256 + AES-256-CBC) when a passphrase is given — the form to
  // keep at rest.
  std::string to_pem(std::string_view passphrase = {}) const;
  PublicKey public_key() const;
  int bits() const noexcept;

  EVP_PKEY* native() const noexcept { return key_.get(); }

 private:
  explicit PrivateKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

}  // namespace dive::ztdf
