// libFuzzer target for the request readers and the engine (tests/fuzz/CMakeLists.txt says how to run).
// Besides crashes and sanitizer findings it checks, for every input:
//   * the text fast path and the Json DOM path agree: both reject it, or both produce identical bytes;
//   * the same holds for the batch endpoint;
//   * a decision is internally consistent (allow ⇔ the allow reason, obligations only when allowed),
//     and the allow and reason queries give the decision's allow and reason;
//   * as OPA, the pdp decides every input object, whatever the types of its attributes and sections
//     (issue 11 §8): a well-formed body with an object "input" is refused only for an attribute with
//     more than 1,000 entries; in a batch, only such inputs and those that are not objects are.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "policy/bundle.hpp"
#include "policy/engine.hpp"
#include "policy/opa_api.hpp"

using namespace dive;
using namespace dive::policy;

namespace {

[[noreturn]] void fail(const char* what, std::string_view body) {
  std::fprintf(stderr, "policy_fuzz: %s\ninput: %.*s\n", what, static_cast<int>(body.size()), body.data());
  std::abort();
}

const Bundle& bundle_for(size_t variant) {
  static const std::shared_ptr<const Bundle> bundles[] = {
      default_bundle(),
      parse_bundle(Json::parse(R"({"tenant_configs": {"USA": {"industry_max_classification": "SECRET"}},
        "trusted_issuers": {"https://idp/usa": {"tenant": "USA"}, "https://idp/rou": {"tenant": "ROU"}},
        "federation_matrix": {"ROU": ["USA"]}, "tenant_id": "GBR",
        "policy_options": {"coi_requires_membership": false, "canonical_clearance_any_country": false,
                           "case_insensitive_clearance_terms": false}})")),
  };
  return *bundles[variant % 2];
}

struct Outcome {
  std::optional<std::string> body;
  std::string error;
};

template <class Fn>
Outcome run(Fn&& fn) {
  Outcome o;
  try {
    o.body = fn();
  } catch (const InvalidInput& e) {
    o.error = e.what();
  }
  return o;
}

bool entry_limit(const std::string& error) {
  return error.rfind("input.", 0) == 0 && error.find(" has more than 1000 entries") != std::string::npos;
}

// The body as parse_body() reads it (the API's limits), or nullopt when it is bad input anyway.
std::optional<Json> parsed(std::string_view body) {
  try {
    return parse_body(body);
  } catch (const InvalidInput&) {
    return std::nullopt;
  }
}

void compare(const Outcome& fast, const Outcome& dom, std::string_view body) {
  if (fast.body.has_value() != dom.body.has_value()) fail("fast and DOM paths disagree on accepting", body);
  if (fast.body && *fast.body != *dom.body) fail("fast and DOM paths produced different output", body);
  const bool syntax = fast.error.rfind("malformed JSON", 0) == 0 && dom.error.rfind("malformed JSON", 0) == 0;
  if (!fast.body && !syntax && fast.error != dom.error) {
    std::fprintf(stderr, "fast: %s\nDOM:  %s\n", fast.error.c_str(), dom.error.c_str());
    fail("fast and DOM paths report different errors", body);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const Bundle& bundle = bundle_for(size);

  const Outcome fast = run([&] { return answer(Query::kDecision, body, bundle).body; });
  const Outcome dom = run([&] { return handle_decision(parse_body(body), bundle).dump(); });
  compare(fast, dom, body);
  const std::optional<Json> doc = parsed(body);
  if (fast.body) {
    const Json result = Json::parse(*fast.body).at("result");
    const bool allow = result.at("allow").get<bool>();
    const std::string reason = result.at("reason").get<std::string>();
    if (allow != (reason == kAllowReason)) fail("allow and reason disagree", body);
    if (!allow && !result.at("obligations").empty()) fail("obligations on a denial", body);
    if (reason == kFallbackReason) fail("fallback reason reached", body);
    if (answer(Query::kAllow, body, bundle).allow != allow) fail("the allow query disagrees", body);
    if (answer(Query::kReason, body, bundle).reason != reason) fail("the reason query disagrees", body);
  } else if (doc && doc->is_object() && doc->contains("input") && doc->at("input").is_object() &&
             !entry_limit(fast.error)) {
    std::fprintf(stderr, "refused: %s\n", fast.error.c_str());
    fail("an input object was refused (OPA decides every input object)", body);
  }

  const Outcome fast_batch = run([&] { return answer_batch(body, bundle).body; });
  const Outcome dom_batch = run([&] { return handle_batch(parse_body(body), bundle).dump(); });
  compare(fast_batch, dom_batch, body);
  if (fast_batch.body) {
    const Json responses = Json::parse(*fast_batch.body).at("responses");
    for (const auto& [id, response] : responses.items()) {
      if (!response.contains("code")) continue;
      const std::string message = response.at("message").get<std::string>();
      if (message != "input must be an object" && !entry_limit(message))
        fail("a batch input object was refused (OPA decides every input object)", body);
    }
  }
  return 0;
}
