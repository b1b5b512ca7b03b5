#include "access/decision.hpp"

namespace dive::access {

void append_decision_json(std::string& out, const Decision& d, bool cached) {
  // Keys in the order nlohmann's (sorted) objects dump them.
  out += "{\"allow\":";
  out += d.allow ? "true" : "false";
  out += ",\"cached\":";
  out += cached ? "true" : "false";
  out += ",\"evaluation_details\":";
  out += d.evaluation_details.dump();
  out += ",\"obligations\":";
  out += d.obligations.dump();
  out += ",\"reason\":";
  append_json_string(out, d.reason);
  out += '}';
}

}  // namespace dive::access
