#pragma once
// JWS compact serialisation (RFC 7515 §7.1) with RS256, PS256 and ES256.
//
//   std::string token = sign({{"typ", "JWT"}}, R"({"sub":"alice"})", signing_key);
//   CompactJws jws = parse_compact(token);                 // structure only, nothing verified
//   bool ok = verify_signature(jws, verify_key);           // alg from the header, must fit the key
//
// This layer knows nothing about claims, issuers or time: TokenValidator (token_validator.hpp) is the
// API for accepting tokens. Header members that name keys (jku, x5u, jwk, x5c, x5t) are never used here.
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/json.hpp"
#include "identity/keys.hpp"

namespace dive::identity {

// The token is not a well-formed compact JWS. The message never quotes the token.
class JwsFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// header_extra: members added to the protected header (e.g. {"typ": "at+jwt"}); "alg" and "kid" always come
// from the key and cannot be overridden, and "typ" defaults to "JWT". payload: the exact bytes to sign
// (normally JSON text). Throws KeyError when signing fails, std::invalid_argument when header_extra is
// neither null nor an object.
std::string sign(const Json& header_extra, std::string_view payload, const SigningKey& key);
// sign() with the claims serialised compactly.
std::string sign_claims(const Json& claims, const SigningKey& key, const Json& header_extra = nullptr);

struct CompactJws {
  Json header;                     // the protected header, a JSON object without duplicate members
  std::string payload;             // decoded payload bytes (not parsed)
  std::string signature;           // decoded signature bytes (may be empty)
  std::string_view signing_input;  // "header.payload" as in the token (a view into it)
};

// Splits and decodes a compact JWS: exactly three '.'-separated parts, non-empty header and payload,
// canonical unpadded base64url everywhere, and a header that is a JSON object with no duplicate member
// names, nested at most 8 deep. `token` must outlive the result (signing_input points into it).
CompactJws parse_compact(std::string_view token);

// True when the header's "alg" is RS256/PS256/ES256, fits the key (type and any alg restriction), and the
// signature verifies. Never throws for bad input.
bool verify_signature(const CompactJws& jws, const VerifyKey& key);

// Parses JOSE JSON (a header or a JWT claims set) strictly: any JSON value, but duplicate member names in
// any object, NUL bytes, or nesting deeper than max_depth are rejected (std::invalid_argument, with a
// short reason that never quotes the input). RFC 7515 §5.2 allows rejecting duplicates; accepting them
// lets two parsers disagree about which "alg" or "sub" counts.
Json parse_jose_json(std::string_view text, int max_depth);

}  // namespace dive::identity
