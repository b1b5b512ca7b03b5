#pragma once
// Checks a JWT this idp issued (introspection, userinfo, revocation, logout hints): structure, a
// published key by kid, RS256 signature, our issuer, and (unless allowed) expiry. Returns the claims.
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/json.hpp"

namespace dive::identity::idp {

class KeyRing;

struct OwnToken {
  Json claims;
  int64_t exp = 0;
};

// nullopt for anything not issued and signed by us (or expired, unless allow_expired).
std::optional<OwnToken> verify_own_token(std::string_view token, const KeyRing& keys,
                                         const std::string& issuer, int64_t now_s, bool allow_expired);

}  // namespace dive::identity::idp
