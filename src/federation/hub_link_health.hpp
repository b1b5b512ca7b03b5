#pragma once
// Whether a spoke's hub answers, from the outcome of each request its federation agent makes to it
// (heartbeat, trust bundle poll, revocation relay). Any HTTP answer below 500 means the hub is there (a 304,
// or a 401/403 by which the registry decides); no connection, a timeout or a 5xx means it does not answer.
// The spoke's api turns it into its "hub" health check (Important: degraded, never unhealthy, since the spoke
// keeps serving on its last trust bundle). Not thread-safe: the agent guards it.
#include <cstdint>
#include <string>

#include "common/json.hpp"

namespace dive::federation {

class HubLinkHealth {
 public:
  void answered(int status, const std::string& url, int64_t now_ms);  // an HTTP answer
  void failed(const std::string& error, int64_t now_ms);              // no answer (transport error)

  bool up() const { return error_.empty(); }  // up until a request fails
  const std::string& error() const { return error_; }
  int64_t last_contact_ms() const { return last_contact_ms_; }    // 0: never
  int64_t failing_since_ms() const { return failing_since_ms_; }  // 0: answering
  // {hubUrl, lastContactMs, failingSinceMs}, for the check's details.
  Json details(const std::string& hub_url) const;

 private:
  std::string error_;
  int64_t last_contact_ms_ = 0, failing_since_ms_ = 0;
};

}  // namespace dive::federation
