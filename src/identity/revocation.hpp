#pragma once
// The revocation contract between whoever revokes (the idp's logout/revoke endpoints, the api's
// /api/auth/logout and /api/auth/revoke) and whoever enforces (every api and kas, through its in-memory
// mirror of the shared blacklist). docs/REVOCATION.md describes the whole mechanism.
//
// Two kinds of entry, both in the shared blacklist Redis on the hub:
//   blacklist:<jti>             this one token, until its exp
//   user-revoked:<uniqueID>     every token of that user issued before the revocation time (ms since the
//                               epoch); tokens issued after it are accepted, so a fresh login works
// A token's issue time is its "iat_ms" claim (milliseconds; our idp sets it) when present, otherwise
// iat * 1000. A token is revoked by a user entry when issued_ms < revoked_at_ms.
#include <cstdint>
#include <string>

namespace dive::identity {

// Publishes revocations federation-wide. Implementations never block the caller on an unreachable
// Redis: what cannot be published now is kept durably and pushed later.
class Revoker {
 public:
  virtual ~Revoker() = default;
  // Revokes one token (by jti) until exp (seconds since the epoch).
  virtual void revoke_token(const std::string& jti, int64_t exp_s) = 0;
  // Revokes every token of the user issued before at_ms (milliseconds since the epoch).
  virtual void revoke_user(const std::string& unique_id, int64_t at_ms) = 0;
};

// Answers "is this token revoked?" from memory, without any network call.
class RevocationCheck {
 public:
  virtual ~RevocationCheck() = default;
  virtual bool is_revoked(const std::string& jti, const std::string& unique_id, int64_t issued_ms) const = 0;
  // True when the answers above cannot be trusted (never synchronised, or not for too long): callers fail
  // closed (503, or refuse) instead of taking "not revoked" for an answer.
  virtual bool stale() const = 0;
};

// The issue time the rule above uses: claims' iat_ms when it is an integer within the second that iat names
// ([iat * 1000, iat * 1000 + 999]), else iat * 1000. An iat_ms outside that second is ignored: an issuer (or
// a partner's compromised one) must not move a token past a user revocation by claiming a later millisecond
// than its signed iat. (Defined inline so both sides agree without linking anything.)
template <class Claims>
int64_t issued_ms_of(const Claims& claims, int64_t iat_s) {
  const int64_t floor_ms = iat_s * 1000;
  auto it = claims.find("iat_ms");
  if (it != claims.end() && it->is_number_integer()) {
    const int64_t ms = it->template get<int64_t>();
    if (ms >= floor_ms && ms <= floor_ms + 999) return ms;
  }
  return floor_ms;
}

}  // namespace dive::identity
