#pragma once
// OPA Data API compatible request/response shapes (docs/POLICY.md "The service"), for the
// HTTP layer to call. Two equivalent flavours:
//   * Json in / Json out (handle_*), for callers that already hold a parsed body;
//   * text in / text out (answer_*), the fast path: no JSON DOM, byte-identical output.
// Bad input throws InvalidInput (→ HTTP 400 with error_body(e.what())); nothing here performs I/O.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.hpp"
#include "policy/bundle.hpp"
#include "policy/decision.hpp"
#include "policy/input.hpp"

namespace dive::policy {

// Version of the decision logic reported by /v1/data/dive/policy_version (the original's 2.1.0,
// whose decision this engine reproduces apart from the documented differences).
inline constexpr std::string_view kPolicyVersion = "2.1.0";

enum class Query { kDecision, kAllow, kReason };

// POST /v1/data/dive/{authz,authorization}/{decision,allow,reason} → the query; nullopt otherwise.
std::optional<Query> query_for_path(std::string_view path);
// POST /v1/batch/data/dive/{authz,authorization}/decision.
bool is_batch_path(std::string_view path);
inline constexpr std::string_view kPolicyVersionPath = "/v1/data/dive/policy_version";

// Parses a request body with the API's limits (1 MiB, nesting depth 64). Throws InvalidInput.
Json parse_body(std::string_view body);
// {"input": {...}} → the validated Input. Throws InvalidInput.
Input request_input(const Json& body);

// {"result": <decision document | allow | reason>}.
Json handle_query(Query q, const Json& body, const Bundle& bundle);
inline Json handle_decision(const Json& body, const Bundle& b) {
  return handle_query(Query::kDecision, body, b);
}
inline Json handle_allow(const Json& body, const Bundle& b) {
  return handle_query(Query::kAllow, body, b);
}
inline Json handle_reason(const Json& body, const Bundle& b) {
  return handle_query(Query::kReason, body, b);
}

// Batch: {"inputs": {"<id>": {...}}} → {"responses": {"<id>": {"result": {...}}}}. An input that is
// itself invalid gets {"code": "invalid_parameter", "message": ...} in place of its result and the
// response is marked partial (the HTTP layer answers 207 then, as OPA's batch API does); a malformed
// body, or more than 1,000 inputs, throws InvalidInput.
struct BatchStats {
  size_t allowed = 0, denied = 0, rejected = 0;
  bool partial() const { return rejected > 0; }
};
Json handle_batch(const Json& body, const Bundle& bundle, BatchStats* stats = nullptr);

// GET /v1/data/dive/policy_version → {"result": {"version": "2.1.0", "bundle": "<revision>"}}.
Json policy_version(const Bundle* bundle);
// The 400 body: {"code": "invalid_parameter", "message": "..."}.
Json error_body(std::string_view message);

// Fast path. The response text plus what the service logs and counts.
struct Answer {
  std::string body;
  bool allow = false;
  std::string reason;
};
Answer answer(Query q, std::string_view request_body, const Bundle& bundle);

struct BatchItem {
  std::string id;
  bool rejected = false;  // the input was invalid (no decision)
  bool allow = false;
  std::string reason;
};
struct BatchAnswer {
  std::string body;
  BatchStats stats;
  std::vector<BatchItem> items;  // one per input, for the decision log
};
BatchAnswer answer_batch(std::string_view request_body, const Bundle& bundle);

}  // namespace dive::policy
