#pragma once
// A PDP decision as the api and kas use it.
#include <memory>
#include <stdexcept>
#include <string>

#include "common/json.hpp"

namespace dive::access {

struct Decision {
  bool allow = false;
  std::string reason;
  Json obligations = Json::array();
  Json evaluation_details = Json::object();
  std::string policy_revision;  // the pdp's data bundle revision it decided with ("" when not said)
  // evaluation_details and obligations as JSON text, rendered once by share(): a cached decision answers
  // many reads, and each writes both trees into its body ("" until rendered: append_decision_json dumps).
  std::string evaluation_details_text;
  std::string obligations_text;
};

// `d` rendered (the texts above) and made shared and immutable, as the decision cache hands it out.
std::shared_ptr<const Decision> share(Decision d);

// Appends {"allow","cached","evaluation_details","obligations","reason"} as JSON text: the bytes of the
// same object built as a Json and dumped, without copying the (shared, immutable) decision's trees, and
// without dumping them again when share() rendered them.
void append_decision_json(std::string& out, const Decision& d, bool cached);

// No decision could be had (breaker open, transport error, timeout, malformed answer). Callers fail closed.
class PdpUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace dive::access
