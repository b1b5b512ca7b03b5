#pragma once
// Creating and opening ZTDF objects.
//
//   std::vector<ztdf::KasPublicKey> kas = {{"https://localhost:10000", "usa-kas-1", kas_public_key}};
//   ztdf::SecurityLabel label;
//   label.classification = ztdf::Classification::kSecret;
//   label.releasability_to = {"USA", "GBR", "CAN", "AUS", "NZL"};
//   label.coi = {"FVEY"};
//   label.originating_country = "USA";
//   ztdf::Object doc = ztdf::encrypt(text, label, kas, {.object_id = "doc-USA-0001"});
//   std::string json = ztdf::serialize(doc);   // displayMarking "SECRET//FVEY//REL USA, GBR, CAN, AUS, NZL"
//   ...
//   ztdf::DataKey key = ztdf::open_key_access(doc.policy, doc.key_access[0], kas_private_key);
//   std::string plain = ztdf::decrypt(doc, key);
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "ztdf/key_access.hpp"
#include "ztdf/keys.hpp"
#include "ztdf/marking.hpp"
#include "ztdf/object.hpp"

namespace dive::ztdf {

struct ObjectInfo {
  std::string object_id;  // "" → "doc-" + a random UUID
  std::string object_type = "document";
  std::string content_type = "text/plain";
  std::string owner;
  std::string owner_organization;
  std::string created_at;                                // "" → now, RFC 3339 UTC with milliseconds
  MarkingStyle marking_style = MarkingStyle::kNational;  // used when the label has no displayMarking
};

// Encrypts `plaintext` under `label` for every KAS key (1..16, distinct url+kid):
//  - a fresh random 256-bit data key and 96-bit IV (OS CSPRNG), AES-256-GCM with the policy hash as AAD;
//  - one KAO per KAS key (RSA-OAEP-256 wrap + policy binding), integrity hashes and the root signature.
// An empty label.creation_date becomes the creation time, an empty label.display_marking the marking of the
// label in info.marking_style; a given marking must match the label. Throws FormatError for an invalid label,
// info or KAS entry (path under "/policy/securityLabel", "/manifest" or "/keyAccessObjects/<i>"), CryptoError
// if OpenSSL fails. The data key exists only inside this call.
Object encrypt(std::string_view plaintext, SecurityLabel label, const std::vector<KasPublicKey>& kas_keys,
               const ObjectInfo& info = {});

// The plaintext. Authenticates ciphertext, IV and tag under the data key, with the hash of the object's
// *current* policy as AAD — so a payload moved under another label, or a label edited in place, fails.
// Throws IntegrityError (the message does not say which part was wrong; validate() does).
std::string decrypt(const Object& object, const DataKey& key);

// Adds a KAO for one more KAS key (e.g. after a KAS key rotation) and re-signs the root. The key must be the
// object's: IntegrityError otherwise (checked against the root signature before anything changes).
void add_key_access(Object& object, const DataKey& key, const KasPublicKey& kas);

// RFC 3339 UTC with milliseconds for a time point ("2026-01-21T00:00:00.000Z").
std::string format_timestamp(std::chrono::system_clock::time_point t);

}  // namespace dive::ztdf
