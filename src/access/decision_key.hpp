#pragma once
// The key of a cached decision (docs/DOCUMENTS.md): the hex SHA-256 of a PDP input's canonical text without
// context.currentTime and context.requestId, so a cached decision is only ever reused for the identical
// question. This type is the only way to make one: the text is written in one place (decision_key.cpp),
// whether the key is taken of a whole input or of the parts one request's inputs share.
#include <string>
#include <string_view>

#include "access/pdp_input.hpp"
#include "common/json.hpp"
#include "identity/verified_token.hpp"

namespace dive::access {

class DecisionKey {
 public:
  // The inputs of one request (one token, operation and context) differ only in their resource: the text of
  // everything else is written once here, and the resource's text once per stored object
  // (ParsedObject::resource_text). for_resource(r.dump()) is the key of build_input(t, operation, r, ctx).
  class Builder {
   public:
    Builder(const identity::VerifiedToken& t, std::string_view operation, const InputContext& ctx);
    DecisionKey for_resource(std::string_view resource_text) const;

   private:
    friend class DecisionKey;
    explicit Builder(const Json& input);  // from an input of build_input's shape; its resource is not read
    std::string head_, tail_;             // the text before and after the resource's
  };

  // The key of a complete input as build_input makes it ({"action","context","resource","subject"}, the
  // context an object). Throws std::invalid_argument for any other shape.
  static DecisionKey of(const Json& input);

  const std::string& hex() const { return hex_; }
  friend bool operator==(const DecisionKey&, const DecisionKey&) = default;

 private:
  explicit DecisionKey(std::string hex) : hex_(std::move(hex)) {}
  std::string hex_;
};

}  // namespace dive::access
