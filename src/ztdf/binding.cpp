#include "ztdf/binding.hpp"

#include "common/encoding.hpp"
#include "ztdf/canonical_json.hpp"
#include "ztdf/primitives.hpp"
#include "ztdf/serialize.hpp"

namespace dive::ztdf {

std::string canonical_policy(const Policy& policy) {
  return canonical_json(to_json(policy));
}

std::string policy_hash(const Policy& policy) {
  return sha384(canonical_policy(policy));
}

std::string policy_hash_hex(const Policy& policy) {
  return hex_encode(policy_hash(policy));
}

std::string payload_hash_hex(const Payload& payload) {
  std::string all;
  all.reserve(payload.iv.size() + payload.ciphertext.size() + payload.auth_tag.size());
  all += payload.iv;
  all += payload.ciphertext;
  all += payload.auth_tag;
  return hex_encode(sha384(all));
}

std::string segment_hash_hex(const Payload& payload) {
  return sha256_hex(payload.ciphertext);
}

std::string policy_binding(const Policy& policy, const DataKey& key) {
  return detail::hmac_sha256(key.bytes(), canonical_policy(policy));
}

bool verify_binding(const Policy& policy, const KeyAccessObject& kao, const DataKey& key) {
  return constant_time_equal(policy_binding(policy, key), kao.policy_binding);
}

std::string root_signature(const Object& object, const DataKey& key) {
  Json kaos = Json::array();
  for (const auto& k : object.key_access) {
    Json j = to_json(k);
    j.erase("wrappedKey");  // each is self-authenticating through unwrap + policy binding
    j.erase("policyBinding");
    kaos.push_back(std::move(j));
  }
  Json segments = Json::array();
  for (const Segment& s : object.payload.integrity.segments)
    segments.push_back(
        {{"hash", s.hash}, {"segmentSize", s.size}, {"encryptedSegmentSize", s.encrypted_size}});
  Json signed_view = {{"context", "dive-ztdf-root-signature"},
                      {"manifest", to_json(object.manifest)},
                      {"policyHash", object.payload.integrity.policy_hash},
                      {"payloadHash", object.payload.integrity.payload_hash},
                      {"segments", std::move(segments)},
                      {"keyAccess", std::move(kaos)}};
  return detail::hmac_sha256(key.bytes(), canonical_json(signed_view));
}

bool verify_root_signature(const Object& object, const DataKey& key) {
  return constant_time_equal(root_signature(object, key), object.payload.integrity.root_signature);
}

}  // namespace dive::ztdf
