#pragma once
// The ACP-240 decision (dive.authz): a pure function of the input and the data bundle. No I/O, no
// clock (the original reads the time only from input.context.currentTime), no shared mutable state:
// safe to call from any number of threads with the same Bundle.
#include "common/json.hpp"
#include "policy/bundle.hpp"
#include "policy/decision.hpp"
#include "policy/input.hpp"

namespace dive::policy {

// Evaluates with the bundle's policy_options.
Decision evaluate(const Input& in, const Bundle& bundle);
// Evaluates with explicit options (tests, what-if tooling).
Decision evaluate(const Input& in, const Bundle& bundle, const PolicyOptions& options);

// Convenience: the value of "input" → the decision document. Throws InvalidInput.
Json evaluate_json(const Json& input, const Bundle& bundle);

}  // namespace dive::policy
