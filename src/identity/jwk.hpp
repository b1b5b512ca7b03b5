#pragma once
// JSON Web Keys (RFC 7517) for signature verification: public keys to JWK/JWKS and back.
//
//   Json jwks = to_jwks({sk.public_key()});        // served at .../protocol/openid-connect/certs
//   JwksParseResult r = parse_jwks(jwks);          // r.keys: VerifyKeys, r.skipped: why others were left
//
// Parsing accepts only public signature keys: kty "RSA" (n, e; >= 2048 bits) or kty "EC" with crv "P-256"
// (x, y on the curve). A JWK that carries private members (d, p, q, dp, dq, qi, oth, k) is an error, and a
// JWK Set that contains one is refused as a whole: a set that leaks private keys is not to be trusted.
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "identity/keys.hpp"

namespace dive::identity {

class JwkError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// {"kty","kid","use":"sig","alg", then "n","e" or "crv","x","y"}; alg is key.default_alg().
Json to_jwk(const VerifyKey& key);
// {"keys": [...]}
Json to_jwks(std::span<const VerifyKey> keys);

// One JWK to a key. Errors (JwkError, message without key material): not an object, private members,
// unknown or missing kty, missing or non-base64url members, RSA below 2048 bits, a curve other than P-256,
// a point off the curve, "use" other than "sig", "key_ops" without "verify", an "alg" this library does
// not accept or that does not fit the key type. A missing kid becomes the RFC 7638 thumbprint.
VerifyKey parse_jwk(const Json& jwk);

struct JwksParseResult {
  std::vector<VerifyKey> keys;       // usable signature keys, in the set's order, kids unique
  std::vector<std::string> skipped;  // one log-safe line per key left out (encryption keys, weak keys, ...)
};
// A JWK Set. Keys that are not usable signature keys (e.g. Keycloak's "use":"enc" RSA-OAEP key, an
// unknown kty, a weak RSA key, a duplicate kid) are skipped and reported, as RFC 7517 §5 asks; a set that
// is not {"keys": [...]} or that holds any private member is a JwkError.
JwksParseResult parse_jwks(const Json& jwks);

}  // namespace dive::identity
