#pragma once
// The cryptographic bindings of a ZTDF object (docs/ZTDF.md, "Binding"):
//
//   canonical policy = RFC 8785 canonical JSON of the whole policy object (version, objectId, securityLabel)
//   policy hash      = SHA-384(canonical policy)            → payload.integrity.policyHash (hex), and the GCM
//   AAD policy binding   = HMAC-SHA256(data key, canonical policy) → keyAccessObjects[i].policyBinding.hash
//   (base64) payload hash     = SHA-384(iv ‖ ciphertext ‖ authTag)   → payload.integrity.payloadHash (hex)
//   segment hash     = SHA-256(ciphertext)                  → payload.integrity.segments[0].hash (hex)
//   root signature   = HMAC-SHA256(data key, canonical JSON of {context, manifest, policyHash, payloadHash,
//                      segments, keyAccess: [{type, protocol, url, kid, wrappingAlgorithm}...]})
//                                                           → payload.integrity.rootSignature.sig (base64)
#include <string>

#include "ztdf/keys.hpp"
#include "ztdf/object.hpp"

namespace dive::ztdf {

std::string canonical_policy(const Policy& policy);
std::string policy_hash(const Policy& policy);      // raw 48 bytes
std::string policy_hash_hex(const Policy& policy);  // 96 hex digits
std::string payload_hash_hex(const Payload& payload);
std::string segment_hash_hex(const Payload& payload);

// Raw 32-byte HMAC of the canonical policy under the data key.
std::string policy_binding(const Policy& policy, const DataKey& key);
// True when kao.policy_binding is the binding of `policy` under `key` (constant-time comparison).
bool verify_binding(const Policy& policy, const KeyAccessObject& kao, const DataKey& key);

// Raw 32-byte root signature of the object under the data key (the stored integrity hashes are signed as
// stored, so changing a hash and its payload together is still detected).
std::string root_signature(const Object& object, const DataKey& key);
bool verify_root_signature(const Object& object, const DataKey& key);

}  // namespace dive::ztdf
