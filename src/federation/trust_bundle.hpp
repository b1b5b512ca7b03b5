#pragma once
// The federation's trust bundle (docs/FEDERATION.md): what the hub tells every instance about whom to
// trust — each member's issuer and JWKS URL, the countries its users may claim, its trust level and
// classification cap, its api and KAS (with the KAS public key) and its CA certificate, and the federation
// matrix. The hub signs it (JWS, ES256, typ "dive-trust+jwt") and numbers it; instances verify it against
// the hub's key they received at enrollment, never accept an older revision, and derive from it their pdp
// data (a policy bundle) and the CA set their outbound connections trust.
#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "federation/registry.hpp"

namespace dive::identity {
class SigningKey;
class VerifyKey;
}  // namespace dive::identity

namespace dive::federation {

struct TrustMember {
  std::string code, name, role;  // role: hub | spoke
  std::string issuer, jwks_url, api_url, idp_url, kas_url, kas_kid, kas_public_key, ca_pem;
  std::vector<std::string> allowed_countries;  // countryOfAffiliation values its tokens may carry
  std::string trust_level = kDefaultTrustLevel;
  std::string max_classification = kDefaultMaxClassification;
  Json to_json() const;
  static TrustMember from_json(const Json& j);  // throws std::invalid_argument
  static TrustMember from_record(const SpokeRecord& r);
};

struct TrustBundle {
  int64_t revision = 0;
  std::string hub;  // the hub's code
  int64_t issued_at_ms = 0;
  std::vector<TrustMember> members;    // approved instances only (the hub first)
  std::vector<std::string> suspended;  // codes of suspended spokes: not trusted, reported as such by searches
  Json to_json() const;
  static TrustBundle from_json(const Json& j);  // throws std::invalid_argument
  const TrustMember* member(const std::string& code) const;
  // The same membership and settings (revision and time aside).
  bool same_content(const TrustBundle& other) const;
};

inline constexpr const char* kBundleJwsType = "dive-trust+jwt";

std::string sign_bundle(const TrustBundle& b, const identity::SigningKey& key);

enum class VerifyOutcome { Ok, Malformed, BadSignature, WrongType };
const char* to_string(VerifyOutcome o);
struct VerifiedBundle {
  VerifyOutcome outcome = VerifyOutcome::Malformed;
  TrustBundle bundle;
  std::string error;  // why, for the log and the status (never quotes the JWS)
};
VerifiedBundle verify_bundle(std::string_view jws, const identity::VerifyKey& key);

// The pdp data of an instance under this bundle: trusted issuers (tenant, country, trust level, allowed
// countries, classification cap) and the federation matrix (every member may reach every other). The same
// function builds a deployment's bundle, so both paths give the same revision for the same membership.
Json policy_bundle_for(const std::vector<TrustMember>& members);
// The PEM set outbound connections trust: `own_ca_pem` first, then each member's CA (deduplicated).
std::string ca_set_pem(const TrustBundle& b, const std::string& own_ca_pem);

// ---- the hub's side
// The approved spokes of the registry and the hub itself (revision 0: publish_bundle numbers it).
TrustBundle bundle_from_registry(const TrustMember& hub, const std::vector<SpokeRecord>& spokes);
struct Published {
  int64_t revision = 0;
  bool created = false;  // false: the latest revision already had this content
};
// Signs and stores the bundle under the next revision unless the latest one has the same content.
Published publish_bundle(pqxx::connection& c, TrustBundle b, const identity::SigningKey& key);
struct StoredJws {
  int64_t revision = 0;
  std::string jws;
};
std::optional<StoredJws> latest_bundle(pqxx::connection& c);

}  // namespace dive::federation
