#pragma once
// What the validator hands out for a token whose signature, issuer, audience and times it checked.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"

namespace dive::identity {

struct VerifiedToken {
  std::string raw_hash;  // hex SHA-256 of the whole token: a stable, log-safe identifier of this token
  Json claims;           // the full claims set (an object), e.g. claims["uniqueID"], claims["clearance"]
  std::string issuer;    // iss (on the allow-list)
  std::string subject;   // sub (non-empty)
  std::string jti;       // "" when absent
  std::string kid;       // header kid of the verifying key
  std::string alg;       // "RS256", "PS256" or "ES256"
  std::vector<std::string> audience;  // aud as a list (contains the configured audience)
  std::string azp;                    // "" when absent
  int64_t exp = 0;                    // seconds since the epoch
  int64_t iat = 0;
  int64_t nbf = 0;        // 0 when absent
  int64_t auth_time = 0;  // 0 when absent
  std::string acr;        // "" when absent
  std::vector<std::string> amr;

  // A string claim, or "" when it is absent or not a string.
  std::string claim_string(std::string_view name) const {
    auto it = claims.find(name);
    return it != claims.end() && it->is_string() ? it->get<std::string>() : std::string{};
  }
};

}  // namespace dive::identity
