#include "access/key_release.hpp"

#include "common/encoding.hpp"
#include "ztdf/error.hpp"
#include "ztdf/key_access.hpp"
#include "ztdf/pdp_input.hpp"
#include "ztdf/serialize.hpp"

namespace dive::access {

namespace {

KeyReleaseResult refuse(Outcome o, std::string resource_id = {}) {
  KeyReleaseResult r;
  r.reason = o.message();
  r.outcome = std::move(o);
  r.resource_id = std::move(resource_id);
  return r;
}
KeyReleaseResult invalid(std::string message, std::string resource_id = {}) {
  return refuse(Outcome::invalid_input(std::move(message)), std::move(resource_id));
}

}  // namespace

const char* KeyReleaseResult::decision() const noexcept {
  switch (outcome.code()) {
    case Outcome::Code::kOk:
      return "granted";
    case Outcome::Code::kDenied:
      return "denied";
    case Outcome::Code::kIntegrity:
      return "integrity";
    case Outcome::Code::kUnavailable:
      return "unavailable";
    case Outcome::Code::kInvalidInput:
    case Outcome::Code::kUnauthenticated:
    case Outcome::Code::kNotFound:
      break;
  }
  return "invalid";
}

KeyRelease::KeyRelease(KasKeyLookup keys, Authorizer& authorizer, std::string tenant)
    : keys_(std::move(keys)), authorizer_(authorizer), tenant_(std::move(tenant)) {}

KeyReleaseResult KeyRelease::handle(std::string_view body, const identity::VerifiedToken& token,
                                    const std::string& request_id) const {
  // 1. The request.
  ztdf::Policy policy;
  ztdf::KeyAccessObject kao;
  Json client_key;
  try {
    Json j = parse_json_limited(body, 32);
    if (!j.is_object()) return invalid("the body must be a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() != "policy" && it.key() != "kao" && it.key() != "clientPublicKey")
        return invalid("unknown member \"" + it.key() + "\"");
    if (!j.contains("policy") || !j.contains("kao")) return invalid("policy and kao are required");
    policy = ztdf::policy_from_json(j["policy"], "/policy");
    kao = ztdf::kao_from_json(j["kao"], "/kao");
    if (j.contains("clientPublicKey")) client_key = j["clientPublicKey"];
  } catch (const ztdf::FormatError& e) {
    return invalid(e.what());
  } catch (const std::exception& e) {
    return invalid(std::string("malformed JSON: ") + e.what());
  }

  // 2. Our key.
  auto priv = keys_(kao.kid);
  if (!priv) return invalid("this KAS holds no key \"" + kao.kid + "\"", policy.object_id);

  // 3. Unwrap and prove the policy is the one the key was bound to.
  std::optional<ztdf::DataKey> key;
  try {
    key = ztdf::open_key_access(policy, kao, *priv);
  } catch (const ztdf::BindingError&) {
    return refuse(Outcome::integrity("policy binding mismatch: the policy or the wrapped key was changed"),
                  policy.object_id);
  } catch (const ztdf::UnwrapError&) {
    return refuse(Outcome::integrity("the wrapped key does not unwrap with this KAS key"), policy.object_id);
  }

  // 4. A fresh decision on the bound label.
  Json input =
      build_input(token, "decrypt", ztdf::resource_attributes(policy), InputContext{tenant_, request_id});
  Authorization a;
  try {
    a = authorizer_.authorize(input, std::string(ztdf::to_string(policy.label.classification)));
  } catch (const PdpUnavailable&) {
    return refuse(Outcome::unavailable(Dependency::kPdp, "no authorization decision can be made now"),
                  policy.object_id);
  }
  if (!a.decision->allow) {
    KeyReleaseResult r =
        refuse(Outcome::denied(*a.decision, "Key release denied by policy"), policy.object_id);
    r.reason = a.decision->reason;
    return r;
  }

  // 5. Release.
  KeyReleaseResult r;
  r.reason = a.decision->reason;
  r.resource_id = policy.object_id;
  r.key = Json{{"resourceId", policy.object_id}, {"kid", kao.kid}, {"obligations", a.decision->obligations}};
  if (!client_key.is_null()) {
    try {
      r.key["wrappedKey"] = ztdf::rewrap(*key, ztdf::PublicKey::from_client_key(client_key));
      r.key["wrappingAlgorithm"] = "RSA-OAEP-256";
    } catch (const ztdf::Error& e) {
      return invalid(std::string("clientPublicKey: ") + e.what(), policy.object_id);
    }
  } else {
    r.key["dataKey"] = base64_encode(key->bytes());
  }
  return r;
}

}  // namespace dive::access
