#include "access/decision_key.hpp"

#include <stdexcept>

#include "common/encoding.hpp"

namespace dive::access {

namespace {
// The members of an input in name order, as its text is written (nlohmann orders object members by name).
constexpr const char* kMembers[] = {"action", "context", "resource", "subject"};

void check_shape(const Json& input) {
  bool ok = input.is_object() && input.size() == std::size(kMembers);
  for (const char* m : kMembers) ok = ok && input.contains(m);
  if (!ok || !input["context"].is_object())
    throw std::invalid_argument(
        "a decision key is taken of a PDP input as build_input makes it "
        "(action, context, resource and subject)");
}
}  // namespace

DecisionKey::Builder::Builder(const identity::VerifiedToken& t, std::string_view operation,
                              const InputContext& ctx)
    : Builder(build_input(t, operation, Json(), ctx)) {}

DecisionKey::Builder::Builder(const Json& input) {
  check_shape(input);
  // The volatile members of the context are no part of the question.
  Json context = input["context"];
  context.erase("currentTime");
  context.erase("requestId");
  head_ = "{\"action\":" + input["action"].dump() + ",\"context\":" + context.dump() + ",\"resource\":";
  tail_ = ",\"subject\":" + input["subject"].dump() + "}";
}

DecisionKey DecisionKey::Builder::for_resource(std::string_view resource_text) const {
  std::string text;
  text.reserve(head_.size() + resource_text.size() + tail_.size());
  text.append(head_).append(resource_text).append(tail_);
  return DecisionKey(sha256_hex(text));
}

DecisionKey DecisionKey::of(const Json& input) {
  const Builder parts(input);  // checks the shape first
  return parts.for_resource(input["resource"].dump());
}

}  // namespace dive::access
