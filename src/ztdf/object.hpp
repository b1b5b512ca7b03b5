#pragma once
// The ZTDF object (docs/DOCUMENTS.md): manifest, policy (with the security label), payload (AES-256-GCM
// ciphertext and integrity hashes) and key access objects. Plain data; binary members hold raw bytes (base64
// only in JSON). JSON shape and member names: docs/ZTDF.md; reading and writing: ztdf/serialize.hpp.
#include <cstdint>
#include <string>
#include <vector>

#include "ztdf/label.hpp"

namespace dive::ztdf {

inline constexpr const char* kFormatVersion = "1.0";  // manifest.version and policy.version

struct Manifest {
  std::string object_id;  // "doc-USA-..."; equals policy.object_id
  std::string object_type = "document";
  std::string content_type = "text/plain";  // MIME type of the plaintext
  std::string owner;                        // may be empty
  std::string owner_organization;           // may be empty
  std::string created_at;                   // RFC 3339
  uint64_t payload_size = 0;                // plaintext bytes

  bool operator==(const Manifest&) const = default;
};

// What the binding covers: everything here, through its canonical JSON (ztdf/binding.hpp).
struct Policy {
  std::string object_id;  // the document this policy belongs to (so the KAS learns it from bound data)
  SecurityLabel label;

  bool operator==(const Policy&) const = default;
};

struct Segment {
  std::string hash;             // hex SHA-256 of the segment's ciphertext
  uint64_t size = 0;            // plaintext bytes
  uint64_t encrypted_size = 0;  // ciphertext bytes

  bool operator==(const Segment&) const = default;
};

struct Integrity {
  std::string policy_hash;        // hex SHA-384 of the canonical policy (the STANAG 4778 binding hash)
  std::string payload_hash;       // hex SHA-384 of iv ‖ ciphertext ‖ authTag
  std::vector<Segment> segments;  // one segment per object in format 1.0
  std::string root_signature;     // raw 32-byte HMAC-SHA256 under the data key (ztdf/binding.hpp)

  bool operator==(const Integrity&) const = default;
};

struct Payload {
  std::string iv;          // raw 12 bytes
  std::string auth_tag;    // raw 16-byte GCM tag
  std::string ciphertext;  // raw AES-256-GCM ciphertext (AAD = raw SHA-384 of the canonical policy)
  Integrity integrity;

  bool operator==(const Payload&) const = default;
};

struct KeyAccessObject {
  std::string url;             // the KAS's base URL (a routing hint, covered by the root signature)
  std::string kid;             // the KAS key id the data key is wrapped to
  std::string wrapped_key;     // raw RSA-OAEP-256 ciphertext of the data key
  std::string policy_binding;  // raw HMAC-SHA256(key = data key, message = canonical policy)

  bool operator==(const KeyAccessObject&) const = default;
};

struct Object {
  Manifest manifest;
  Policy policy;
  Payload payload;
  std::vector<KeyAccessObject> key_access;  // at least one

  bool operator==(const Object&) const = default;
};

inline constexpr size_t kMaxKeyAccessObjects = 16;
inline constexpr uint64_t kMaxPayloadBytes = uint64_t{256} << 20;  // 256 MiB

}  // namespace dive::ztdf
