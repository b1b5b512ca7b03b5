#include "identity/idp/refresh_policy.hpp"

#include <algorithm>

namespace dive::identity::idp {

const char* to_string(RefreshVerdict v) {
  switch (v) {
    case RefreshVerdict::Rotate:
      return "rotate";
    case RefreshVerdict::Reuse:
      return "reuse";
    case RefreshVerdict::Revoked:
      return "revoked";
    case RefreshVerdict::Expired:
      return "expired";
    case RefreshVerdict::WrongClient:
      break;
  }
  return "wrong_client";
}

RefreshVerdict judge_refresh(const RefreshRecord& r, const std::string& client_id, int64_t now_ms) {
  if (r.client_id != client_id) return RefreshVerdict::WrongClient;
  if (r.rotated) return r.revoked ? RefreshVerdict::Revoked : RefreshVerdict::Reuse;
  if (r.revoked) return RefreshVerdict::Revoked;
  if (now_ms >= r.expires_ms) return RefreshVerdict::Expired;
  return RefreshVerdict::Rotate;
}

int64_t refresh_expiry_ms(int64_t now_ms, int64_t session_started_ms, int64_t ttl_s, int64_t session_max_s) {
  return std::min(now_ms + ttl_s * 1000, session_started_ms + session_max_s * 1000);
}

}  // namespace dive::identity::idp
