#pragma once
// JOSE signing and verification keys on OpenSSL EVP_PKEY.
//
//   auto sk = SigningKey::generate_rsa(2048);              // RS256, kid = RFC 7638 thumbprint
//   std::string sig = sk.sign("header.payload");           // JOSE signature bytes
//   bool ok = sk.public_key().verify(Alg::RS256, "header.payload", sig);
//
// Accepted keys: RSA 2048..8192 bits (public exponent odd, >= 3) for RS256/PS256, and EC P-256 for ES256.
// Anything else (RSA-PSS-restricted keys, other curves, Ed25519, DSA, weak RSA) is a KeyError.
// Both classes are immutable handles: copies share the key, and every const member is thread-safe.
// Signing and verification reuse prepared EVP_PKEY_CTX objects from a small per-key pool, so the
// per-call cost is the digest plus the public-key operation.
#include <openssl/types.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "identity/algorithm.hpp"

namespace dive::identity {

// A key was rejected or an OpenSSL operation failed. Messages never contain key material.
class KeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;

namespace detail {
class KeyMaterial;
struct KeyAccess;
}  // namespace detail

// A public key that verifies JOSE signatures. Never holds private material.
class VerifyKey {
 public:
  // From big-endian modulus and exponent bytes (JWK "n"/"e" decoded). Empty kid: the RFC 7638 thumbprint.
  // `alg`, when given, restricts the key to that algorithm (a JWK's "alg" member).
  static VerifyKey from_rsa(std::string_view n, std::string_view e, std::string kid = {},
                            std::optional<Alg> alg = std::nullopt);
  // From the 32-byte big-endian affine coordinates of a P-256 point (JWK "x"/"y" decoded); the point
  // must lie on the curve.
  static VerifyKey from_ec_p256(std::string_view x, std::string_view y, std::string kid = {},
                                std::optional<Alg> alg = std::nullopt);
  // From a "PUBLIC KEY" (SubjectPublicKeyInfo) PEM.
  static VerifyKey from_pem(std::string_view pem, std::string kid = {},
                            std::optional<Alg> alg = std::nullopt);

  const std::string& kid() const { return kid_; }
  KeyType type() const;
  int bits() const;                                // modulus size (RSA) or 256 (P-256)
  std::optional<Alg> alg() const { return alg_; }  // the restriction, if any
  // The algorithm a token signed by this key is expected to use: alg() or the key type's default
  // (RS256 for RSA, ES256 for EC).
  Alg default_alg() const;
  // True when `a` fits the key type and the restriction (if any).
  bool allows(Alg a) const;

  // Verifies a JOSE signature over `signing_input` (the ASCII "header.payload" of a compact JWS).
  // ES256 signatures must be the raw 64-byte r || s (a DER signature is rejected); RSA signatures must
  // be exactly the modulus length. Returns false for any mismatch; never throws for bad input.
  bool verify(Alg a, std::string_view signing_input, std::string_view signature) const;

  // The required public members of RFC 7638 §3.2: {"e","kty","n"} or {"crv","kty","x","y"}.
  const Json& jwk_members() const;
  // RFC 7638 JWK thumbprint: base64url(SHA-256(members serialised with sorted keys, no whitespace)).
  const std::string& thumbprint() const;
  std::string to_pem() const;  // "PUBLIC KEY" PEM

  VerifyKey with_kid(std::string kid) const;
  VerifyKey with_alg(std::optional<Alg> alg) const;  // throws KeyError when alg does not fit the type

  EVP_PKEY* native() const;  // borrowed; the handle keeps it alive

 private:
  friend class SigningKey;
  friend struct detail::KeyAccess;
  VerifyKey(std::shared_ptr<const detail::KeyMaterial> m, std::string kid, std::optional<Alg> alg);
  std::shared_ptr<const detail::KeyMaterial> m_;
  std::string kid_;
  std::optional<Alg> alg_;
};

// A private key that signs JOSE signatures with one algorithm, alg().
class SigningKey {
 public:
  // A fresh RSA key (bits: 2048, 3072 or 4096) for RS256 or PS256. Empty kid: the RFC 7638 thumbprint.
  static SigningKey generate_rsa(int bits = 2048, Alg alg = Alg::RS256, std::string kid = {});
  static SigningKey generate_ec_p256(std::string kid = {});
  // From a PKCS#8 "PRIVATE KEY" PEM (traditional "RSA/EC PRIVATE KEY" PEM is also read). An encrypted
  // PEM is refused (never prompts). Empty alg: RS256 for RSA, ES256 for EC.
  static SigningKey from_pem(std::string_view pem, std::optional<Alg> alg = std::nullopt,
                             std::string kid = {});

  // Unencrypted PKCS#8 PEM of the private key. Store it only through encrypt_private_key().
  std::string to_pem() const;

  const std::string& kid() const { return pub_.kid(); }
  Alg alg() const { return alg_; }
  KeyType type() const { return pub_.type(); }
  int bits() const { return pub_.bits(); }
  // The matching public key, with the same kid and restricted to alg().
  const VerifyKey& public_key() const { return pub_; }

  // The JOSE signature of `signing_input` with alg() (ES256: raw r || s). Throws KeyError on failure.
  std::string sign(std::string_view signing_input) const;

  SigningKey with_kid(std::string kid) const;

 private:
  friend struct detail::KeyAccess;
  SigningKey(std::shared_ptr<const detail::KeyMaterial> m, Alg alg, VerifyKey pub);
  std::shared_ptr<const detail::KeyMaterial> m_;
  Alg alg_;
  VerifyKey pub_;
};

}  // namespace dive::identity
