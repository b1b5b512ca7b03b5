#pragma once
// Proof Key for Code Exchange (RFC 7636) with S256 only: "plain" is refused everywhere.
#include <string>
#include <string_view>

namespace dive::identity::idp {

// 43..128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1, and the same syntax for a challenge).
bool valid_code_verifier(std::string_view verifier);
// A challenge as the client sends it: base64url(SHA-256), 43 characters.
bool valid_code_challenge(std::string_view challenge);
// BASE64URL-ENCODE(SHA256(ASCII(code_verifier))).
std::string s256_challenge(std::string_view verifier);
// True when the verifier is well-formed and hashes to the challenge (constant-time comparison).
bool verify_pkce_s256(std::string_view verifier, std::string_view challenge);

}  // namespace dive::identity::idp
