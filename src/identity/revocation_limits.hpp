#pragma once
// How long user revocations are kept, and the longest token lifetime that this covers. A user entry
// (every token of the user issued before time T) is kept until T + user_retention; a token issued just
// before T is accepted until iat + lifetime + clock skew. A token that lives longer than
// user_retention - skew would therefore be accepted again once its user's entry is gone, so validators
// refuse such tokens and the idp refuses to be configured to issue them (docs/REVOCATION.md).
#include <chrono>

#include "common/json.hpp"

namespace dive::identity {

// 900 s token lifetime + 30 s skew + 300 s margin.
inline constexpr std::chrono::seconds kDefaultUserRetention{900 + 30 + 300};

// revocation.user_retention_s of an instance.json (kDefaultUserRetention when absent). Throws
// std::runtime_error when it is not a positive integer.
std::chrono::seconds user_retention_of(const Json& instance);

// The longest token lifetime (exp - iat) that a user revocation covers for the token's whole life.
constexpr std::chrono::seconds max_covered_lifetime(std::chrono::seconds retention,
                                                    std::chrono::seconds skew) {
  return retention > skew ? retention - skew : std::chrono::seconds(0);
}

}  // namespace dive::identity
