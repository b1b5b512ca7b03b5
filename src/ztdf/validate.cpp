#include "ztdf/validate.hpp"

#include <openssl/crypto.h>

#include <optional>

#include "common/encoding.hpp"
#include "ztdf/binding.hpp"
#include "ztdf/marking.hpp"
#include "ztdf/primitives.hpp"

namespace dive::ztdf {

namespace {

void add(ValidationReport& r, Check check, std::string path, std::string message) {
  r.findings.push_back({check, std::move(path), std::move(message)});
}

std::string kao_path(size_t i, const char* member) {
  return "/keyAccessObjects/" + std::to_string(i) + "/" + member;
}

// The checks that need the data key, given one.
void keyed_checks(const Object& o, const DataKey& key, ValidationReport& r) {
  r.keyed = true;
  for (size_t i = 0; i < o.key_access.size(); ++i)
    if (!verify_binding(o.policy, o.key_access[i], key))
      add(r, Check::kPolicyBindingMismatch, kao_path(i, "policyBinding"),
          "the policy binding does not match: the policy was changed, or this KAO's wrapped key and binding "
          "were "
          "replaced");
  if (!verify_root_signature(o, key))
    add(r, Check::kRootSignatureMismatch, "/payload/integrity/rootSignature",
        "the root signature does not match: the manifest (ids, timestamps, sizes), a KAO's url or kid, or "
        "the "
        "integrity hashes were changed");
  const Payload& p = o.payload;
  if (!detail::aes_gcm_open(key, p.iv, policy_hash(o.policy), p.ciphertext, p.auth_tag))
    add(r, Check::kPayloadAuthFailed, "/payload/ciphertext",
        "the payload does not authenticate (GCM): the ciphertext, IV, tag or the policy it is bound to "
        "changed");
}

}  // namespace

const char* to_string(Check check) noexcept {
  switch (check) {
    case Check::kObjectIdMismatch:
      return "object_id_mismatch";
    case Check::kMarkingMismatch:
      return "marking_mismatch";
    case Check::kPolicyHashMismatch:
      return "policy_hash_mismatch";
    case Check::kPayloadSizeMismatch:
      return "payload_size_mismatch";
    case Check::kSegmentHashMismatch:
      return "segment_hash_mismatch";
    case Check::kPayloadHashMismatch:
      return "payload_hash_mismatch";
    case Check::kUnwrapFailed:
      return "unwrap_failed";
    case Check::kKeyMismatch:
      return "key_mismatch";
    case Check::kPolicyBindingMismatch:
      return "policy_binding_mismatch";
    case Check::kRootSignatureMismatch:
      return "root_signature_mismatch";
    case Check::kPayloadAuthFailed:
      return "payload_auth_failed";
    case Check::kNoKeyAvailable:
      return "no_key_available";
  }
  return "unknown";
}

bool ValidationReport::has(Check check) const noexcept {
  for (const auto& f : findings)
    if (f.check == check) return true;
  return false;
}

bool ValidationReport::has(Check check, std::string_view path) const noexcept {
  for (const auto& f : findings)
    if (f.check == check && f.path == path) return true;
  return false;
}

std::string ValidationReport::summary() const {
  std::string out;
  for (const auto& f : findings) {
    if (!out.empty()) out += "; ";
    out += to_string(f.check);
    out += " at ";
    out += f.path.empty() ? "/" : f.path;
  }
  return out;
}

ValidationReport validate_structure(const Object& o) {
  ValidationReport r;
  const Payload& p = o.payload;
  const Integrity& in = p.integrity;
  if (o.manifest.object_id != o.policy.object_id)
    add(r, Check::kObjectIdMismatch, "/manifest/objectId",
        "the manifest and the policy name different objects");
  if (!marking_matches(o.policy.label))
    add(r, Check::kMarkingMismatch, "/policy/securityLabel/displayMarking",
        "the display marking is not the marking of the label's attributes");
  if (!constant_time_equal(policy_hash_hex(o.policy), in.policy_hash))
    add(r, Check::kPolicyHashMismatch, "/policy",
        "the policy does not match payload.integrity.policyHash: the security label (or the hash) was "
        "changed");
  if (o.manifest.payload_size != p.ciphertext.size())
    add(r, Check::kPayloadSizeMismatch, "/manifest/payloadSize", "the payload size is not the ciphertext's");
  if (in.segments.size() != 1)
    add(r, Check::kPayloadSizeMismatch, "/payload/integrity/segments", "expected exactly one segment");
  else if (in.segments[0].size != p.ciphertext.size() || in.segments[0].encrypted_size != p.ciphertext.size())
    add(r, Check::kPayloadSizeMismatch, "/payload/integrity/segments/0",
        "the segment sizes are not the payload's");
  if (in.segments.size() == 1 && !constant_time_equal(segment_hash_hex(p), in.segments[0].hash))
    add(r, Check::kSegmentHashMismatch, "/payload/ciphertext",
        "the ciphertext does not match its SHA-256 segment hash (the ciphertext or the hash was changed)");
  if (!constant_time_equal(payload_hash_hex(p), in.payload_hash))
    add(r, Check::kPayloadHashMismatch, "/payload",
        "iv, ciphertext and authTag do not match payload.integrity.payloadHash");
  return r;
}

ValidationReport validate(const Object& object, const DataKey& key) {
  ValidationReport r = validate_structure(object);
  keyed_checks(object, key, r);
  return r;
}

ValidationReport validate(const Object& object, const KasKeyLookup& kas_keys) {
  ValidationReport r = validate_structure(object);
  const size_t n = object.key_access.size();
  std::vector<std::optional<DataKey>> keys(n);
  for (size_t i = 0; i < n; ++i) {
    const PrivateKey* pk = kas_keys ? kas_keys(object.key_access[i]) : nullptr;
    if (!pk) continue;
    auto raw = detail::rsa_oaep_unwrap(*pk, object.key_access[i].wrapped_key);
    if (!raw || raw->size() != DataKey::kSize) {
      add(r, Check::kUnwrapFailed, kao_path(i, "wrappedKey"),
          "the wrapped key does not unwrap with the KAS key its kid names (the wrapped key or the kid was "
          "changed)");
    } else {
      keys[i] = DataKey::from_bytes(*raw);
    }
    if (raw) OPENSSL_cleanse(raw->data(), raw->size());
  }
  // The reference key — the document's own — is the one the root signature verifies under; failing that,
  // one whose binding holds; failing that, the first that unwrapped. So a KAO whose wrapped key and binding
  // were both replaced (the attacker's own key, bound correctly) is the one reported, not its honest
  // siblings.
  const DataKey* reference = nullptr;
  for (size_t i = 0; i < n && !reference; ++i)
    if (keys[i] && verify_root_signature(object, *keys[i])) reference = &*keys[i];
  for (size_t i = 0; i < n && !reference; ++i)
    if (keys[i] && verify_binding(object.policy, object.key_access[i], *keys[i])) reference = &*keys[i];
  for (size_t i = 0; i < n && !reference; ++i)
    if (keys[i]) reference = &*keys[i];
  if (!reference) {
    add(r, Check::kNoKeyAvailable, "/keyAccessObjects",
        "no key access object could be unwrapped, so the keyed checks did not run");
    return r;
  }
  for (size_t i = 0; i < n; ++i)
    if (keys[i] && !(*keys[i] == *reference))
      add(r, Check::kKeyMismatch, kao_path(i, "wrappedKey"),
          "this key access object holds a different data key than the others (its wrapped key was replaced)");
  keyed_checks(object, *reference, r);
  return r;
}

}  // namespace dive::ztdf
