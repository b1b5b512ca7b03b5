#pragma once
// Wrapping, unwrapping and rewrapping of data keys (RSA-OAEP with SHA-256 and MGF1-SHA-256, no label).
//
// The KAS flow for POST /request-key {policy, kao, clientPublicKey?}:
//
//   ztdf::Policy policy = ztdf::policy_from_json(body.at("policy"));
//   ztdf::KeyAccessObject kao = ztdf::kao_from_json(body.at("kao"), "/kao");
//   ztdf::DataKey key = ztdf::open_key_access(policy, kao, kas_private_key);  // UnwrapError, BindingError
//   ... PDP decision from the token and policy.label (ztdf/pdp_input.hpp) ...
//   if (body.contains("clientPublicKey"))
//     reply["wrappedKey"] = ztdf::rewrap(key, ztdf::PublicKey::from_client_key(body["clientPublicKey"]));
#include <string>
#include <string_view>

#include "ztdf/keys.hpp"
#include "ztdf/object.hpp"

namespace dive::ztdf {

// A KAS public key a document is encrypted for.
struct KasPublicKey {
  std::string url;  // the KAS's base URL, e.g. "https://localhost:10000"
  std::string kid;  // the KAS's key id ([A-Za-z0-9._:-], ≤ 256 bytes)
  PublicKey key;
};

// A new KAO: the data key wrapped to the KAS key, bound to the policy.
KeyAccessObject wrap_key(const DataKey& key, const Policy& policy, const KasPublicKey& kas);

// The data key of a KAO. Throws UnwrapError when the KAO was not wrapped to this key or was changed
// (the message never says more, so it is no padding oracle).
DataKey unwrap_key(const KeyAccessObject& kao, const PrivateKey& kas_private_key);

// unwrap_key, then verify_binding: what a KAS does before it asks the PDP. Throws UnwrapError, or
// BindingError when the policy is not the one the key was bound to (label changed, or the wrapped key
// belongs to another document).
DataKey open_key_access(const Policy& policy, const KeyAccessObject& kao, const PrivateKey& kas_private_key);

// The data key wrapped to a client's public key (the "clientPublicKey" flow), base64.
std::string rewrap(const DataKey& key, const PublicKey& client_key);
// Client side of rewrap: the data key from the base64 text and the client's private key. Throws UnwrapError.
DataKey unwrap_rewrapped(std::string_view wrapped_base64, const PrivateKey& client_private_key);

}  // namespace dive::ztdf
