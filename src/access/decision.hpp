#pragma once
// A PDP decision as the api and kas use it.
#include <stdexcept>
#include <string>

#include "common/json.hpp"

namespace dive::access {

struct Decision {
  bool allow = false;
  std::string reason;
  Json obligations = Json::array();
  Json evaluation_details = Json::object();
};

// No decision could be had (breaker open, transport error, timeout, malformed answer). Callers fail closed.
class PdpUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace dive::access
