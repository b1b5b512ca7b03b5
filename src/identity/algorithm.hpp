#pragma once
// The JWS algorithms DIVE accepts (RFC 7518) and the key types they need. Nothing else is representable:
// `none`, the HMAC family (HS256/384/512) and every other name parse to nullopt, so no code path can
// verify a token with them.
#include <optional>
#include <string_view>

namespace dive::identity {

enum class Alg {
  RS256,  // RSASSA-PKCS1-v1_5 with SHA-256, RSA key >= 2048 bits
  PS256,  // RSASSA-PSS with SHA-256, MGF1-SHA-256, salt length 32, RSA key >= 2048 bits
  ES256,  // ECDSA on P-256 with SHA-256; JOSE signature = raw r || s (64 bytes), never DER
};

enum class KeyType {
  Rsa,     // JWK kty "RSA"
  EcP256,  // JWK kty "EC", crv "P-256"
};

std::string_view to_string(Alg alg);       // "RS256", "PS256", "ES256"
std::string_view to_string(KeyType type);  // "RSA", "EC"
// Exact, case-sensitive JOSE name; nullopt for "none", "HS256", "RS384", "rs256", ...
std::optional<Alg> parse_alg(std::string_view name);
// The key type an algorithm needs: RS256/PS256 -> Rsa, ES256 -> EcP256.
KeyType key_type_for(Alg alg);

}  // namespace dive::identity
