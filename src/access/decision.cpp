#include "access/decision.hpp"

namespace dive::access {

std::shared_ptr<const Decision> share(Decision d) {
  d.evaluation_details_text = d.evaluation_details.dump();
  d.obligations_text = d.obligations.dump();
  return std::make_shared<const Decision>(std::move(d));
}

void append_decision_json(std::string& out, const Decision& d, bool cached) {
  // Keys in the order nlohmann's (sorted) objects dump them.
  out += "{\"allow\":";
  out += d.allow ? "true" : "false";
  out += ",\"cached\":";
  out += cached ? "true" : "false";
  out += ",\"evaluation_details\":";
  if (d.evaluation_details_text.empty())
    out += d.evaluation_details.dump();
  else
    out += d.evaluation_details_text;
  out += ",\"obligations\":";
  if (d.obligations_text.empty())
    out += d.obligations.dump();
  else
    out += d.obligations_text;
  out += ",\"reason\":";
  append_json_string(out, d.reason);
  out += '}';
}

}  // namespace dive::access
