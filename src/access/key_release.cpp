#include "access/key_release.hpp"

#include "common/encoding.hpp"
#include "ztdf/error.hpp"
#include "ztdf/key_access.hpp"
#include "ztdf/pdp_input.hpp"
#include "ztdf/serialize.hpp"

namespace dive::access {

namespace {

KeyReleaseResult refuse(int status, std::string decision, std::string error, std::string message,
                        std::string resource_id = {}) {
  KeyReleaseResult r;
  r.status = status;
  r.decision = std::move(decision);
  r.reason = message;
  r.resource_id = std::move(resource_id);
  r.body = Json{{"error", std::move(error)}, {"message", std::move(message)}};
  return r;
}

}  // namespace

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
    if (!j.is_object()) return refuse(400, "invalid", "Bad Request", "the body must be a JSON object");
    for (auto it = j.begin(); it != j.end(); ++it)
      if (it.key() != "policy" && it.key() != "kao" && it.key() != "clientPublicKey")
        return refuse(400, "invalid", "Bad Request", "unknown member \"" + it.key() + "\"");
    if (!j.contains("policy") || !j.contains("kao"))
      return refuse(400, "invalid", "Bad Request", "policy and kao are required");
    policy = ztdf::policy_from_json(j["policy"], "/policy");
    kao = ztdf::kao_from_json(j["kao"], "/kao");
    if (j.contains("clientPublicKey")) client_key = j["clientPublicKey"];
  } catch (const ztdf::FormatError& e) {
    return refuse(400, "invalid", "Bad Request", e.what());
  } catch (const std::exception& e) {
    return refuse(400, "invalid", "Bad Request", std::string("malformed JSON: ") + e.what());
  }

  // 2. Our key.
  auto priv = keys_(kao.kid);
  if (!priv)
    return refuse(400, "invalid", "Bad Request", "this KAS holds no key \"" + kao.kid + "\"",
                  policy.object_id);

  // 3. Unwrap and prove the policy is the one the key was bound to.
  std::optional<ztdf::DataKey> key;
  try {
    key = ztdf::open_key_access(policy, kao, *priv);
  } catch (const ztdf::BindingError&) {
    return refuse(403, "integrity", "Forbidden",
                  "policy binding mismatch: the policy or the wrapped key was changed", policy.object_id);
  } catch (const ztdf::UnwrapError&) {
    return refuse(403, "integrity", "Forbidden", "the wrapped key does not unwrap with this KAS key",
                  policy.object_id);
  }

  // 4. A fresh decision on the bound label.
  Json input =
      build_input(token, "decrypt", ztdf::resource_attributes(policy), InputContext{tenant_, request_id});
  Authorization a;
  try {
    a = authorizer_.authorize(input, std::string(ztdf::to_string(policy.label.classification)));
  } catch (const PdpUnavailable& e) {
    return refuse(503, "unavailable", "Service Unavailable", "no authorization decision can be made now",
                  policy.object_id);
  }
  if (!a.decision->allow) {
    KeyReleaseResult r = refuse(403, "denied", "Forbidden", "Key release denied by policy", policy.object_id);
    r.reason = a.decision->reason;
    r.body["reason"] = a.decision->reason;
    r.body["evaluation_details"] = a.decision->evaluation_details;
    return r;
  }

  // 5. Release.
  KeyReleaseResult r;
  r.status = 200;
  r.decision = "granted";
  r.reason = a.decision->reason;
  r.resource_id = policy.object_id;
  r.body = Json{{"resourceId", policy.object_id}, {"kid", kao.kid}, {"obligations", a.decision->obligations}};
  if (!client_key.is_null()) {
    try {
      r.body["wrappedKey"] = ztdf::rewrap(*key, ztdf::PublicKey::from_client_key(client_key));
      r.body["wrappingAlgorithm"] = "RSA-OAEP-256";
    } catch (const ztdf::Error& e) {
      return refuse(400, "invalid", "Bad Request", std::string("clientPublicKey: ") + e.what(),
                    policy.object_id);
    }
  } else {
    r.body["dataKey"] = base64_encode(key->bytes());
  }
  return r;
}

}  // namespace dive::access
