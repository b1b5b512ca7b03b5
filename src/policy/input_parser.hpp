#pragma once
// The fast path: reads request bodies straight from text into Input, without building a JSON DOM.
// Accepts exactly the JSON that nlohmann::json accepts (RFC 8259, UTF-8 checked, a leading BOM
// skipped, nesting up to kMaxDepth), keeps the last of repeated keys, and reports the same
// InvalidInput messages as the DOM path (input_from_json); the fuzz target checks that they agree.
#include <map>
#include <string>
#include <string_view>

#include "policy/input.hpp"

namespace dive::policy {

inline constexpr size_t kMaxBatchInputs = 1000;

// {"input": {...}} → a validated Input. Throws InvalidInput.
Input parse_request_text(std::string_view body);

// One input of a batch: either a validated Input or the reason it was rejected.
struct BatchEntry {
  Input input;
  std::string error;  // empty when the input is valid
};
// {"inputs": {"<id>": {...}, ...}} → entries by id (byte order, as JSON objects are emitted).
// Throws InvalidInput for a malformed body or more than kMaxBatchInputs inputs.
std::map<std::string, BatchEntry> parse_batch_text(std::string_view body);

}  // namespace dive::policy
