#include "ztdf/serialize.hpp"

#include <algorithm>

#include "common/encoding.hpp"
#include "ztdf/error.hpp"
#include "ztdf/strict_json.hpp"

namespace dive::ztdf {

namespace {

using detail::ObjectReader;

constexpr size_t kMaxIdBytes = 256;
constexpr size_t kMaxTextBytes = 256;
constexpr size_t kMaxUrlBytes = 2048;
constexpr size_t kMinWrappedBytes = 256;   // RSA-2048
constexpr size_t kMaxWrappedBytes = 1024;  // RSA-8192

bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
         c == '.' || c == ':';
}

std::string identifier(ObjectReader& r, std::string_view key) {
  std::string s = r.nonempty_string(key, kMaxIdBytes);
  if (!std::all_of(s.begin(), s.end(), id_char))
    throw FormatError(r.member_path(key), "expected [A-Za-z0-9._:-] characters only");
  return s;
}

// Free text (owner names): UTF-8 without control characters.
std::string text(ObjectReader& r, std::string_view key, bool allow_empty) {
  std::string s = r.string(key);
  if ((!allow_empty && s.empty()) || s.size() > kMaxTextBytes || std::any_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7F;
      }))
    throw FormatError(r.member_path(key), "expected up to 256 bytes of text without control characters");
  return s;
}

std::string url(ObjectReader& r, std::string_view key) {
  std::string s = r.nonempty_string(key, kMaxUrlBytes);
  bool scheme = s.rfind("https://", 0) == 0 || s.rfind("http://", 0) == 0;
  bool printable = std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7F; });
  if (!scheme || !printable) throw FormatError(r.member_path(key), "expected an http(s) URL without spaces");
  return s;
}

Segment segment_from_json(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Segment s;
  s.hash = r.hex("hash", 64);
  s.size = r.unsigned_integer("segmentSize", kMaxPayloadBytes);
  s.encrypted_size = r.unsigned_integer("encryptedSegmentSize", kMaxPayloadBytes);
  r.finish();
  return s;
}

Integrity integrity_from_json(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Integrity in;
  in.policy_hash = r.hex("policyHash", 96);
  in.payload_hash = r.hex("payloadHash", 96);
  r.expect_string("segmentHashAlg", "SHA-256");
  const Json& segments = r.array("segments");
  if (segments.size() != 1)
    throw FormatError(r.member_path("segments"), "format 1.0 has exactly one segment");
  in.segments.push_back(segment_from_json(segments[0], r.member_path("segments") + "/0"));
  ObjectReader sig(r.object("rootSignature"), r.member_path("rootSignature"));
  sig.expect_string("alg", "HS256");
  in.root_signature = sig.base64("sig", 32);
  sig.finish();
  r.finish();
  return in;
}

}  // namespace

// ---- writing

Json to_json(const Manifest& m) {
  return Json{{"version", kFormatVersion},
              {"objectId", m.object_id},
              {"objectType", m.object_type},
              {"contentType", m.content_type},
              {"owner", m.owner},
              {"ownerOrganization", m.owner_organization},
              {"createdAt", m.created_at},
              {"payloadSize", m.payload_size}};
}

Json to_json(const Policy& p) {
  return Json{
      {"version", kFormatVersion}, {"objectId", p.object_id}, {"securityLabel", label_to_json(p.label)}};
}

Json to_json(const Payload& p) {
  Json segments = Json::array();
  for (const Segment& s : p.integrity.segments)
    segments.push_back(
        {{"hash", s.hash}, {"segmentSize", s.size}, {"encryptedSegmentSize", s.encrypted_size}});
  return Json{{"encryptionAlgorithm", "AES-256-GCM"},
              {"iv", base64_encode(p.iv)},
              {"authTag", base64_encode(p.auth_tag)},
              {"ciphertext", base64_encode(p.ciphertext)},
              {"integrity",
               {{"policyHash", p.integrity.policy_hash},
                {"payloadHash", p.integrity.payload_hash},
                {"segmentHashAlg", "SHA-256"},
                {"segments", std::move(segments)},
                {"rootSignature", {{"alg", "HS256"}, {"sig", base64_encode(p.integrity.root_signature)}}}}}};
}

Json to_json(const KeyAccessObject& k) {
  return Json{{"type", "wrapped"},
              {"protocol", "kas"},
              {"url", k.url},
              {"kid", k.kid},
              {"wrappingAlgorithm", "RSA-OAEP-256"},
              {"wrappedKey", base64_encode(k.wrapped_key)},
              {"policyBinding", {{"alg", "HS256"}, {"hash", base64_encode(k.policy_binding)}}}};
}

Json to_json(const Object& o) {
  Json kaos = Json::array();
  for (const auto& k : o.key_access) kaos.push_back(to_json(k));
  return Json{{"manifest", to_json(o.manifest)},
              {"policy", to_json(o.policy)},
              {"payload", to_json(o.payload)},
              {"keyAccessObjects", std::move(kaos)}};
}

std::string serialize(const Object& object) {
  return to_json(object).dump();
}

// ---- reading

Manifest manifest_from_json(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Manifest m;
  r.expect_string("version", kFormatVersion);
  m.object_id = identifier(r, "objectId");
  m.object_type = identifier(r, "objectType");
  m.content_type = r.nonempty_string("contentType", kMaxTextBytes);
  if (!std::all_of(m.content_type.begin(), m.content_type.end(),
                   [](char c) { return c >= 0x20 && c < 0x7F; }))
    throw FormatError(r.member_path("contentType"), "expected a MIME type in printable ASCII");
  m.owner = text(r, "owner", true);
  m.owner_organization = text(r, "ownerOrganization", true);
  m.created_at = r.string("createdAt");
  if (!is_rfc3339(m.created_at))
    throw FormatError(r.member_path("createdAt"), "expected an RFC 3339 date-time");
  m.payload_size = r.unsigned_integer("payloadSize", kMaxPayloadBytes);
  r.finish();
  return m;
}

Policy policy_from_json(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Policy p;
  r.expect_string("version", kFormatVersion);
  p.object_id = identifier(r, "objectId");
  p.label = label_from_json(r.object("securityLabel"), r.member_path("securityLabel"));
  r.finish();
  return p;
}

Payload payload_from_json(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  Payload p;
  r.expect_string("encryptionAlgorithm", "AES-256-GCM");
  p.iv = r.base64("iv", 12);
  p.auth_tag = r.base64("authTag", 16);
  p.ciphertext = r.base64("ciphertext", 0, /*allow_empty=*/true);
  if (p.ciphertext.size() > kMaxPayloadBytes) throw FormatError(r.member_path("ciphertext"), "too large");
  p.integrity = integrity_from_json(r.object("integrity"), r.member_path("integrity"));
  r.finish();
  return p;
}

KeyAccessObject kao_from_json(const Json& j, const std::string& path) {
  ObjectReader r(j, path);
  KeyAccessObject k;
  r.expect_string("type", "wrapped");
  r.expect_string("protocol", "kas");
  k.url = url(r, "url");
  k.kid = identifier(r, "kid");
  r.expect_string("wrappingAlgorithm", "RSA-OAEP-256");
  k.wrapped_key = r.base64("wrappedKey");
  if (k.wrapped_key.size() < kMinWrappedBytes || k.wrapped_key.size() > kMaxWrappedBytes)
    throw FormatError(r.member_path("wrappedKey"), "not the size of an RSA-2048..8192 ciphertext");
  ObjectReader b(r.object("policyBinding"), r.member_path("policyBinding"));
  b.expect_string("alg", "HS256");
  k.policy_binding = b.base64("hash", 32);
  b.finish();
  r.finish();
  return k;
}

Object object_from_json(const Json& j) {
  ObjectReader r(j, "");
  Object o;
  o.manifest = manifest_from_json(r.object("manifest"), "/manifest");
  o.policy = policy_from_json(r.object("policy"), "/policy");
  o.payload = payload_from_json(r.object("payload"), "/payload");
  const Json& kaos = r.array("keyAccessObjects");
  if (kaos.empty() || kaos.size() > kMaxKeyAccessObjects)
    throw FormatError("/keyAccessObjects",
                      "expected 1 to " + std::to_string(kMaxKeyAccessObjects) + " entries");
  for (size_t i = 0; i < kaos.size(); ++i)
    o.key_access.push_back(kao_from_json(kaos[i], "/keyAccessObjects/" + std::to_string(i)));
  r.finish();
  return o;
}

Object parse_object(std::string_view text) {
  return object_from_json(detail::parse_strict(text));
}

Policy parse_policy(std::string_view text) {
  return policy_from_json(detail::parse_strict(text), "/policy");
}

KeyAccessObject parse_kao(std::string_view text) {
  return kao_from_json(detail::parse_strict(text), "/kao");
}

}  // namespace dive::ztdf
