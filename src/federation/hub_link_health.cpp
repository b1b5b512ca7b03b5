#include "federation/hub_link_health.hpp"

namespace dive::federation {

void HubLinkHealth::answered(int status, const std::string& url, int64_t now_ms) {
  if (status >= 500) {
    failed("HTTP " + std::to_string(status) + " from " + url, now_ms);
    return;
  }
  last_contact_ms_ = now_ms;
  failing_since_ms_ = 0;
  error_.clear();
}

void HubLinkHealth::failed(const std::string& error, int64_t now_ms) {
  if (error_.empty()) failing_since_ms_ = now_ms;
  error_ = error.empty() ? "no answer" : error;
}

Json HubLinkHealth::details(const std::string& hub_url) const {
  return Json{{"hubUrl", hub_url.empty() ? Json(nullptr) : Json(hub_url)},
              {"lastContactMs", last_contact_ms_ ? Json(last_contact_ms_) : Json(nullptr)},
              {"failingSinceMs", failing_since_ms_ ? Json(failing_since_ms_) : Json(nullptr)}};
}

}  // namespace dive::federation
