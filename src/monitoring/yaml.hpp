#pragma once
// YAML <-> JSON for the monitoring configuration (Prometheus and Alertmanager read YAML; DIVE edits trees):
// a YAML document becomes a Json tree (plain scalars typed as YAML 1.2's core schema: null, bool, int,
// float, else string; quoted scalars stay strings), and a Json tree is written as block YAML with every
// string double-quoted, so that nothing changes type on the way back.
#include <string>

#include "common/json.hpp"

namespace dive::monitoring {

Json parse_yaml(const std::string& text);  // throws std::runtime_error naming the line of a syntax error
std::string to_yaml(const Json& doc);

}  // namespace dive::monitoring
