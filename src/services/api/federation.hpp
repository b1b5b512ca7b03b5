#pragma once
// The api's federation side (docs/FEDERATION.md).
//
// On the hub, the registry's network face:
//   GET  /api/federation/ca          the hub's CA certificate (PEM); the caller pins it by fingerprint
//   POST /api/federation/register    {registration, enrollmentToken?} -> 201 approved | 202 pending, with the
//                                    spoke's credential (once) and the hub's bundle key
//   POST /api/federation/heartbeat   (DiveSpoke credential) {health, bundleRevision} -> {status,
//   bundleRevision} GET  /api/federation/bundle      (DiveSpoke credential, approved) the signed trust
//   bundle; ETag/304
//
// On every instance, the federation agent: it applies each new trust bundle (the hub reads its own
// database; a spoke polls its hub with its credential), verifies it with the hub's key, refuses an older
// revision or a bad signature (keeping what it has), and on a spoke sends heartbeats; a spoke on another
// machine also relays revocations both ways every federation.revocation_relay_ms. Its state is served at
//   GET  /api/federation/status      applied revision, members, registry status, last errors
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "federation/fanout.hpp"

namespace dive::services {

class ServiceContext;

// What the document routes need of the federation. Thread-safe.
class FederationView {
 public:
  virtual ~FederationView() = default;
  // The other members of the applied trust bundle, each behind its breaker (partner:<CODE>), marked when
  // the hub reports it suspended or stale.
  virtual std::vector<federation::Partner> partners() = 0;
  // One of them by code; nullopt when it is not a member of the applied bundle.
  virtual std::optional<federation::Partner> partner(const std::string& code) = 0;
  // The KAS registry: a member's KAS (url, kid, public key PEM), and whether a URL is a member's KAS.
  struct Kas {
    std::string url, kid, public_key_pem;
  };
  virtual std::optional<Kas> kas_of(const std::string& code) = 0;
  virtual bool is_member_kas(const std::string& url) = 0;
};

std::shared_ptr<FederationView> add_federation(ServiceContext& ctx);

}  // namespace dive::services
