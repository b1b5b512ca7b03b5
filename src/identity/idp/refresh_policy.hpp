#pragma once
// Refresh-token rotation with reuse detection (OAuth 2.0 Security BCP §4.14): every use of a refresh
// token replaces it with a new one of the same family; presenting a token that was already rotated means
// two parties hold it, so the whole family (and the access tokens issued with it) is revoked. A family
// never outlives its login by more than session_max.
#include <cstdint>
#include <string>
#include <vector>

namespace dive::identity::idp {

struct RefreshRecord {
  std::string family_id, user_id, client_id, scope;
  int64_t auth_time = 0;  // seconds
  std::vector<std::string> amr;
  int64_t session_started_ms = 0, expires_ms = 0;
  // When the family's first token was issued: a user revocation after it ends the whole family (a token
  // rotated after the revocation, before this idp learned of it, is still of a session that was ended).
  int64_t family_issued_ms = 0;
  bool rotated = false, revoked = false;
};

enum class RefreshVerdict {
  Rotate,       // valid: issue new tokens, mark this one rotated
  Reuse,        // already rotated: revoke the family
  Revoked,      // the family was revoked (logout, revocation, earlier reuse)
  Expired,      // past its expiry or the session maximum
  WrongClient,  // issued to another client
};

const char* to_string(RefreshVerdict v);

RefreshVerdict judge_refresh(const RefreshRecord& r, const std::string& client_id, int64_t now_ms);

// When a token issued now expires: now + ttl, but never after the session maximum.
int64_t refresh_expiry_ms(int64_t now_ms, int64_t session_started_ms, int64_t ttl_s, int64_t session_max_s);

}  // namespace dive::identity::idp
