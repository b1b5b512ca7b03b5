#include "identity/idp/pkce.hpp"

#include "common/encoding.hpp"

namespace dive::identity::idp {

namespace {
bool unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}
}  // namespace

bool valid_code_verifier(std::string_view v) {
  if (v.size() < 43 || v.size() > 128) return false;
  for (char c : v)
    if (!unreserved(c)) return false;
  return true;
}

bool valid_code_challenge(std::string_view c) {
  if (c.size() != 43) return false;
  auto raw = base64url_decode(c);
  return raw && raw->size() == 32;
}

std::string s256_challenge(std::string_view verifier) {
  return base64url_encode(sha256(verifier));
}

bool verify_pkce_s256(std::string_view verifier, std::string_view challenge) {
  if (!valid_code_verifier(verifier)) return false;
  return constant_time_equal(s256_challenge(verifier), challenge);
}

}  // namespace dive::identity::idp
