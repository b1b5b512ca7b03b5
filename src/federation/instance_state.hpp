#pragma once
// What an instance keeps about its federation, under <instance dir>/federation/ (docs/FEDERATION.md):
//   hub.json      where its hub is and how to trust it: URL, code, CA fingerprint, the bundle public key
//   hub-ca.pem    the hub's CA certificate (pinned by that fingerprint at enrollment)
//   bundle-key.pem   (hub only, mode 600) the private key the hub signs trust bundles with
//   bundle.jws    the last trust bundle applied, as received (verified again on every start)
//   trust.pem     the CA set outbound connections trust: own CA + every member's (services follow it)
//   status.json   the agent's view: applied revision, registry status, last errors (for ./dive)
// The spoke's credential lives in secrets.json (federation_credential).
#include <filesystem>
#include <optional>
#include <pqxx/connection>
#include <string>

#include "common/json.hpp"
#include "federation/registry.hpp"
#include "federation/trust_bundle.hpp"

namespace dive::federation {

namespace fs = std::filesystem;

struct FederationPaths {
  fs::path dir, hub_json, hub_ca, bundle_key, bundle_jws, trust_pem, status_json;
  static FederationPaths of(const fs::path& instance_dir);
};

struct HubLink {
  std::string hub_url;         // the hub's api
  std::string hub_code;        // USA
  std::string ca_fingerprint;  // of hub-ca.pem
  std::string bundle_key_pem;  // the hub's bundle verification key (SubjectPublicKeyInfo PEM)
  bool same_home = false;      // a spoke deployed in the hub's $DIVE_HOME
  Json to_json() const;
  static HubLink from_json(const Json& j);  // throws std::invalid_argument
};
std::optional<HubLink> read_hub_link(const FederationPaths& p);  // nullopt when not federated
void write_hub_link(const FederationPaths& p, const HubLink& link, const std::string& hub_ca_pem);

// This instance as a member / registration, from its instance.json, its CA and its KAS's active key.
TrustMember member_from_instance(const Json& cfg, const std::string& ca_pem, const std::string& kas_kid,
                                 const std::string& kas_public_pem);
Registration registration_from_instance(const Json& cfg, const std::string& ca_pem,
                                        const std::string& kas_kid, const std::string& kas_public_pem);

// Applies a verified bundle to this instance: the CA set (trust.pem, written atomically), its pdp data (a
// policy bundle, activated in the instance database; the pdp and the issuer allow-lists follow it), and
// the bundle itself (bundle.jws). Throws on a failure (nothing later is written). Returns the policy
// bundle's revision.
std::string apply_bundle(pqxx::connection& c, const FederationPaths& p, const TrustBundle& b,
                         const std::string& jws, const std::string& own_ca_pem);

}  // namespace dive::federation
