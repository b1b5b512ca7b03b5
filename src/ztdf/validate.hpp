#pragma once
// Validation of a ZTDF object: every check runs, and every failure is reported with the member it concerns,
// so that an operator sees *what* was tampered with. Two levels:
//
//  - validate_structure(object): no key needed (what the API can do on every read). Detects parts that no
//    longer agree: policy vs. its stored hash, label vs. its marking, manifest vs. policy ids, payload vs.
//    its hashes and sizes. An attacker who also recomputes these unkeyed hashes is caught only by:
//  - validate(object, data_key) / validate(object, kas_key_lookup): adds the keyed checks — each KAO unwraps
//    (with a lookup) to the same key and its policy binding matches; the root signature (manifest ids and
//    timestamps, KAO url/kid, integrity hashes) matches; the payload authenticates (GCM).
//
// report.ok() is what the PDP input calls `integrityValidated` (ztdf/pdp_input.hpp).
#include <functional>
#include <string>
#include <vector>

#include "ztdf/keys.hpp"
#include "ztdf/object.hpp"

namespace dive::ztdf {

enum class Check {
  // unkeyed
  kObjectIdMismatch,     // /manifest/objectId ≠ /policy/objectId (an id was changed)
  kMarkingMismatch,      // /policy/securityLabel/displayMarking is not the marking of the label
  kPolicyHashMismatch,   // /payload/integrity/policyHash ≠ SHA-384(canonical policy): the policy (label)
                         // changed
  kPayloadSizeMismatch,  // /manifest/payloadSize or the segment sizes ≠ the ciphertext's length
  kSegmentHashMismatch,  // /payload/integrity/segments/0/hash ≠ SHA-256(ciphertext)
  kPayloadHashMismatch,  // /payload/integrity/payloadHash ≠ SHA-384(iv ‖ ciphertext ‖ tag)
  // keyed
  kUnwrapFailed,           // /keyAccessObjects/i/wrappedKey does not unwrap with the KAS key named by kid
  kKeyMismatch,            // /keyAccessObjects/i/wrappedKey unwraps to another key than the other KAOs
  kPolicyBindingMismatch,  // /keyAccessObjects/i/policyBinding ≠ HMAC(key, policy): policy or key replaced
  kRootSignatureMismatch,  // /payload/integrity/rootSignature: manifest, KAO url/kid or hashes changed
  kPayloadAuthFailed,      // /payload/ciphertext: the GCM tag does not authenticate
  kNoKeyAvailable,         // /keyAccessObjects: no KAO could be unwrapped, so the keyed checks did not run
};

const char* to_string(Check check) noexcept;

struct Finding {
  Check check;
  std::string path;     // JSON pointer of the member concerned
  std::string message;  // what it means, for operators; no key material and no values

  bool operator==(const Finding&) const = default;
};

struct ValidationReport {
  std::vector<Finding> findings;
  bool keyed = false;  // the keyed checks ran (a data key was available)

  bool ok() const noexcept { return findings.empty(); }
  bool has(Check check) const noexcept;
  bool has(Check check, std::string_view path) const noexcept;
  // "check at path; check at path" (for logs and error responses).
  std::string summary() const;
};

ValidationReport validate_structure(const Object& object);

// Structure plus the keyed checks with a known data key (e.g. after a KAS released it).
ValidationReport validate(const Object& object, const DataKey& key);

// The KAS private key for a KAO (by kao.kid, maybe kao.url), or nullptr when this party has none.
using KasKeyLookup = std::function<const PrivateKey*(const KeyAccessObject&)>;

// Structure plus the keyed checks, unwrapping every KAO the lookup has a key for. KAOs without a key are
// skipped (not findings); if none unwraps, kNoKeyAvailable is reported.
ValidationReport validate(const Object& object, const KasKeyLookup& kas_keys);

}  // namespace dive::ztdf
