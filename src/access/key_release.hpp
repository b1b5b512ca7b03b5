#pragma once
// The key access decision of the kas (POST /request-key {policy, kao, clientPublicKey?}), docs/DOCUMENTS.md:
//   1. parse the request strictly (invalid input on anything malformed, naming the member);
//   2. find the KAS private key of kao.kid (invalid input when this KAS has no such key);
//   3. unwrap and verify the policy binding (integrity when the policy or the wrapped key was changed: the
//      caller's policy is trusted only once it is proven bound to the key);
//   4. build the PDP input from the verified token and the *bound* policy (operation "decrypt") and ask the
//      PDP for a fresh decision (denied, or unavailable when it cannot answer: fail closed);
//   5. release the key: as base64 (for the api, over TLS), or rewrapped to clientPublicKey.
// Resource metadata sent by a caller outside the bound policy is never read. Outcomes, not HTTP
// (access/outcome.hpp): src/services/kas/key_request.cpp maps them to statuses.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "access/authorizer.hpp"
#include "access/outcome.hpp"
#include "access/pdp_input.hpp"
#include "identity/verified_token.hpp"
#include "ztdf/keys.hpp"

namespace dive::access {

struct KeyReleaseResult {
  // ok (granted), invalid input, integrity, denied (the decision's reason and evaluation details),
  // unavailable (the pdp).
  Outcome outcome;
  Json key;                 // ok: {resourceId, kid, obligations, dataKey | wrappedKey + wrappingAlgorithm}
  std::string reason;       // the policy's reason, or what was wrong (never key material)
  std::string resource_id;  // from the bound policy when it was read

  // The outcome as the kas's audit and metrics name it: "granted" | "denied" | "invalid" | "integrity" |
  // "unavailable".
  const char* decision() const noexcept;
};

using KasKeyLookup = std::function<std::shared_ptr<const ztdf::PrivateKey>(const std::string& kid)>;

// Thread-safe: fixed after construction; handle() runs on every worker thread (the key lookup it is given
// must be thread-safe, as the kas's is).
class KeyRelease {
 public:
  KeyRelease(KasKeyLookup keys, Authorizer& authorizer, std::string tenant);

  KeyReleaseResult handle(std::string_view body, const identity::VerifiedToken& token,
                          const std::string& request_id) const;

 private:
  KasKeyLookup keys_;
  Authorizer& authorizer_;
  std::string tenant_;
};

}  // namespace dive::access
