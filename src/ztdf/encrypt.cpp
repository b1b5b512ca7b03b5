#include "ztdf/encrypt.hpp"

#include <chrono>
#include <ctime>
#include <set>

#include "common/encoding.hpp"
#include "common/random.hpp"
#include "ztdf/binding.hpp"
#include "ztdf/error.hpp"
#include "ztdf/primitives.hpp"
#include "ztdf/serialize.hpp"

namespace dive::ztdf {

namespace {

std::string random_uuid() {
  auto b = secure_random_bytes(16);
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string hex = hex_encode(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

std::string random_bytes(size_t n) {
  auto b = secure_random_bytes(n);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

Manifest make_manifest(std::string_view plaintext, const ObjectInfo& info) {
  Manifest m;
  m.object_id = info.object_id.empty() ? "doc-" + random_uuid() : info.object_id;
  m.object_type = info.object_type;
  m.content_type = info.content_type;
  m.owner = info.owner;
  m.owner_organization = info.owner_organization;
  m.created_at =
      info.created_at.empty() ? format_timestamp(std::chrono::system_clock::now()) : info.created_at;
  m.payload_size = plaintext.size();
  manifest_from_json(to_json(m));  // the same rules as reading: never write what cannot be read back
  return m;
}

void check_kas_keys(const std::vector<KasPublicKey>& kas_keys) {
  if (kas_keys.empty() || kas_keys.size() > kMaxKeyAccessObjects)
    throw FormatError("/keyAccessObjects",
                      "expected 1 to " + std::to_string(kMaxKeyAccessObjects) + " KAS keys");
  std::set<std::pair<std::string, std::string>> seen;
  for (size_t i = 0; i < kas_keys.size(); ++i)
    if (!seen.emplace(kas_keys[i].url, kas_keys[i].kid).second)
      throw FormatError("/keyAccessObjects/" + std::to_string(i), "the same KAS url and kid twice");
}

}  // namespace

std::string format_timestamp(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  if (ms % 1000 < 0) --secs;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];  // room for any int fields, so that -Wformat-truncation has nothing to say
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(((ms % 1000) + 1000) % 1000));
  return buf;
}

Object encrypt(std::string_view plaintext, SecurityLabel label, const std::vector<KasPublicKey>& kas_keys,
               const ObjectInfo& info) {
  if (plaintext.size() > kMaxPayloadBytes) throw FormatError("/manifest/payloadSize", "plaintext too large");
  check_kas_keys(kas_keys);
  Object o;
  o.manifest = make_manifest(plaintext, info);
  if (label.creation_date.empty()) label.creation_date = o.manifest.created_at;
  if (label.display_marking.empty()) label.display_marking = display_marking(label, info.marking_style);
  validate_label(label);
  o.policy.object_id = o.manifest.object_id;
  o.policy.label = std::move(label);

  const DataKey key = DataKey::generate();
  const std::string canonical = canonical_policy(o.policy);
  const std::string policy_digest = sha384(canonical);

  Payload& p = o.payload;
  p.iv = random_bytes(detail::kGcmIvBytes);
  auto sealed = detail::aes_gcm_seal(key, p.iv, policy_digest, plaintext);
  p.ciphertext = std::move(sealed.ciphertext);
  p.auth_tag = std::move(sealed.tag);
  p.integrity.policy_hash = hex_encode(policy_digest);
  p.integrity.payload_hash = payload_hash_hex(p);
  p.integrity.segments.push_back({segment_hash_hex(p), plaintext.size(), p.ciphertext.size()});

  const std::string binding = detail::hmac_sha256(key.bytes(), canonical);
  for (size_t i = 0; i < kas_keys.size(); ++i) {
    KeyAccessObject kao;
    kao.url = kas_keys[i].url;
    kao.kid = kas_keys[i].kid;
    kao.wrapped_key = detail::rsa_oaep_wrap(kas_keys[i].key, key.bytes());
    kao.policy_binding = binding;
    kao_from_json(to_json(kao), "/keyAccessObjects/" + std::to_string(i));  // url and kid as reading demands
    o.key_access.push_back(std::move(kao));
  }
  p.integrity.root_signature = root_signature(o, key);
  return o;
}

std::string decrypt(const Object& object, const DataKey& key) {
  const Payload& p = object.payload;
  auto plain = detail::aes_gcm_open(key, p.iv, policy_hash(object.policy), p.ciphertext, p.auth_tag);
  if (!plain)
    throw IntegrityError(
        "the payload does not authenticate: its ciphertext, IV, tag or policy changed, or the key is not its "
        "own");
  return std::move(*plain);
}

void add_key_access(Object& object, const DataKey& key, const KasPublicKey& kas) {
  if (!verify_root_signature(object, key))
    throw IntegrityError("the key is not this object's, or the object was changed (root signature mismatch)");
  if (object.key_access.size() >= kMaxKeyAccessObjects)
    throw FormatError("/keyAccessObjects", "already has the maximum number of entries");
  for (const auto& k : object.key_access)
    if (k.url == kas.url && k.kid == kas.kid)
      throw FormatError("/keyAccessObjects", "already has an entry for this KAS url and kid");
  KeyAccessObject kao = wrap_key(key, object.policy, kas);
  kao_from_json(to_json(kao), "/keyAccessObjects/" + std::to_string(object.key_access.size()));
  object.key_access.push_back(std::move(kao));
  object.payload.integrity.root_signature = root_signature(object, key);
}

}  // namespace dive::ztdf
