#pragma once
// The orchestrator's side of the federation (docs/FEDERATION.md): the hub's bundle key, enrollment tokens
// and operator actions on the registry (each one republishes the signed trust bundle), a spoke in the hub's
// own home joining directly, and a spoke on another machine joining over the network — fetching the hub's
// CA, pinning it by fingerprint and registering with its token (or waiting as pending).
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/json.hpp"
#include "federation/registry.hpp"
#include "federation/trust_bundle.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

// True when this home holds a deployed hub (a spoke here joins it directly).
bool hub_in_home(const Layout& layout);

// The hub's bundle signing key (ES256), created once (mode 600). Returns true when it was created.
bool ensure_bundle_key(const InstancePaths& hub);

// Hub in this home: registers every spoke deployed here that the registry lacks (or whose URLs changed),
// then signs and stores a new trust bundle when its content changed. Returns the latest bundle.
federation::TrustBundle sync_hub_federation(const Layout& layout);

// A spoke deployed in the hub's home: its credential (secrets.json), its link to the hub, its registration
// (approved, source "local"). Idempotent.
void join_local_spoke(const Layout& layout, const std::string& code);

struct JoinOptions {
  std::string hub_url;         // https://host:port of the hub's api
  std::string ca_fingerprint;  // SHA-256 of the hub CA
  std::string token_secret;    // empty: registration waits as pending
  bool empty() const { return hub_url.empty(); }
};
// From --join TOKEN or --hub URL --hub-ca-fingerprint FP (std::invalid_argument naming what is wrong).
JoinOptions make_join_options(const std::string& token, const std::string& hub_url,
                              const std::string& fingerprint, const std::string& code);

struct JoinResult {
  std::string status;  // approved | pending
  int64_t bundle_revision = 0;
};
// The hub (or the pinned fingerprint) refused the join: retrying will not help.
struct JoinRefused : std::runtime_error {
  JoinRefused(const std::string& what, std::string fix) : std::runtime_error(what), remedy(std::move(fix)) {}
  std::string remedy;
};
// The hub's CA certificate (PEM), fetched without trust and accepted only when its SHA-256 is the pinned
// fingerprint. Throws JoinRefused (wrong fingerprint, not a hub) or std::runtime_error (unreachable).
std::string fetch_pinned_hub_ca(const JoinOptions& o);
// A spoke on another machine joins its hub (after its own stores run: the registration carries its KAS key).
// Throws std::runtime_error with the hub's reason (fingerprint mismatch, token used/expired/unknown, ...).
JoinResult join_remote_hub(const Layout& layout, const std::string& code, const JoinOptions& o);

// The trust bundle this instance applied last (verified with its hub's key), if any.
std::optional<federation::TrustBundle> applied_bundle(const Layout& layout, const std::string& code);
// The agent's status file (status.json), {} when absent.
Json federation_status_file(const Layout& layout, const std::string& code);

// A spoke of this home that was nuked (its directory gone): out of the registry (source "local" only; a
// remote spoke is revoked by the operator), and a new trust bundle without it. Returns what was done, "" when
// nothing (also when the hub's database does not answer: said in the text).
std::string forget_local_spoke(const Layout& layout, const std::string& code);

// ---- hub operator commands (hub in this home)
struct EnrollOptions {
  std::string code;
  std::chrono::seconds ttl{24 * 3600};
  std::string max_classification = federation::kDefaultMaxClassification;
  std::string trust_level = federation::kDefaultTrustLevel;
};
struct Enrollment {
  std::string token;  // the whole token to hand over
  std::string hub_url, ca_fingerprint;
  std::chrono::system_clock::time_point expires_at;
};
Enrollment create_enrollment(const Layout& layout, const EnrollOptions& o);  // throws std::runtime_error

struct SpokeChange {
  federation::ChangeResult result;
  int64_t bundle_revision = 0;
};
SpokeChange change_spoke(const Layout& layout, const std::string& code, federation::Action a,
                         const federation::ChangeOptions& o);
std::vector<federation::SpokeRecord> list_spokes(const Layout& layout);
Json spoke_audit(const Layout& layout, const std::string& code, int limit);
std::chrono::milliseconds heartbeat_interval(const Layout& layout);  // the hub's setting

}  // namespace dive::orch
