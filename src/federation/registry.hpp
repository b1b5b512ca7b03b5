#pragma once
// The hub's registry of spokes (docs/FEDERATION.md), in the hub's database (migration 007):
//   pending -> approved -> suspended <-> approved;  any -> revoked (final)
// with enrollment tokens (hashed, single use, expiring), per-spoke credentials (hashed, rotatable),
// heartbeats, and an audit row for every change. Functions take a pqxx connection and return typed
// outcomes; HTTP statuses and CLI wording stay with their callers.
#include <chrono>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "common/json.hpp"

namespace dive::federation {

enum class SpokeStatus { Pending, Approved, Suspended, Revoked };
const char* to_string(SpokeStatus s);
std::optional<SpokeStatus> parse_status(std::string_view s);

enum class Action { Approve, Suspend, Reinstate, Revoke, Rotate };
const char* to_string(Action a);
// The status after `a` from `from`, or nullopt when the registry refuses it (e.g. reinstating a pending
// spoke, anything on a revoked one). Rotate keeps the status (allowed unless revoked).
std::optional<SpokeStatus> next_status(SpokeStatus from, Action a);

// Trust levels (the order of the original system's values) and classification caps.
bool valid_trust_level(std::string_view level);     // HIGH, MEDIUM, LOW, DEVELOPMENT
bool valid_classification(std::string_view level);  // UNCLASSIFIED .. TOP_SECRET (DIVE levels)
inline constexpr const char* kDefaultTrustLevel = "HIGH";
inline constexpr const char* kDefaultMaxClassification = "TOP_SECRET";

// What a spoke tells the hub about itself when it registers (every URL https).
struct Registration {
  std::string code;  // FRA
  std::string name;  // France
  std::string host;
  std::string issuer, jwks_url, api_url, idp_url, kas_url;
  std::string kas_kid, kas_public_key;  // SubjectPublicKeyInfo PEM
  std::string ca_pem;                   // the spoke's CA certificate, PEM
  Json to_json() const;
  // Validates every field (std::invalid_argument naming the first bad one).
  static Registration from_json(const Json& j);
};

struct SpokeRecord {
  Registration reg;
  SpokeStatus status = SpokeStatus::Pending;
  std::string source;  // "remote" (registered over the network) or "local" (deployed in the hub's home)
  std::vector<std::string> allowed_countries;
  std::string trust_level = kDefaultTrustLevel;
  std::string max_classification = kDefaultMaxClassification;
  std::optional<std::chrono::system_clock::time_point> last_heartbeat;
  Json heartbeat;               // the last heartbeat's body (health summary)
  int64_t bundle_revision = 0;  // the trust bundle revision the spoke last reported as applied
  std::chrono::system_clock::time_point registered_at{}, updated_at{};
  // Stale: approved and no heartbeat for three intervals (a never-seen spoke counts from its approval).
  bool stale(std::chrono::system_clock::time_point now, std::chrono::milliseconds interval) const;
  Json to_json(std::chrono::system_clock::time_point now, std::chrono::milliseconds interval) const;
};

// ---- enrollment tokens
struct TokenOptions {
  std::string code;
  std::chrono::seconds ttl{24 * 3600};
  std::string max_classification = kDefaultMaxClassification;
  std::string trust_level = kDefaultTrustLevel;
  std::string actor = "operator";
};
// Stores hash(secret) for `code`. A spoke already approved or revoked under that code: refused (returns
// false with `why`).
bool create_enrollment_token(pqxx::connection& c, const TokenOptions& o, const std::string& secret,
                             std::string* why);

// ---- registration (the hub's POST /api/federation/register)
enum class RegisterOutcome {
  Approved,         // by a valid token (or re-registration of an approved spoke with its credential)
  Pending,          // no token: waits for ./dive hub spokes approve
  TokenUnknown,     // no such token (or it was for another code)
  TokenUsed,        // already used
  TokenExpired,     // past its expiry
  AlreadyEnrolled,  // the code is registered (not pending) and the caller proved nothing
  Revoked,          // the code was revoked: a new enrollment needs the operator to delete it first
};
const char* to_string(RegisterOutcome o);
struct RegisterResult {
  RegisterOutcome outcome = RegisterOutcome::TokenUnknown;
  std::string credential;  // the spoke's new secret (Approved/Pending only; shown once)
  SpokeStatus status = SpokeStatus::Pending;
};
// token_secret empty: registration without a token (pending). The registration is stored (or updated for a
// pending spoke). `actor` goes to the audit.
RegisterResult register_spoke(pqxx::connection& c, const Registration& reg, const std::string& token_secret,
                              const std::string& actor, const std::string& new_credential);

// A spoke deployed in the hub's own home: approved directly (source "local"); the credential is replaced.
void register_local_spoke(pqxx::connection& c, const Registration& reg, const std::string& credential_hash);

// A spoke of the hub's own home that was nuked leaves the registry (audited as "remove"); a remote spoke is
// never removed this way (revoke it). True when a row was deleted.
bool remove_local_spoke(pqxx::connection& c, const std::string& code, const std::string& actor);

// ---- operator actions
enum class ChangeOutcome { Done, NotFound, NotAllowed };
struct ChangeResult {
  ChangeOutcome outcome = ChangeOutcome::NotFound;
  SpokeStatus from = SpokeStatus::Pending, to = SpokeStatus::Pending;
  std::string credential;  // Rotate: the new secret (shown once)
};
struct ChangeOptions {
  std::optional<std::string> max_classification, trust_level;  // Approve: overrides
  std::string actor = "operator";
  std::string reason;
};
ChangeResult change_spoke(pqxx::connection& c, const std::string& code, Action a, const ChangeOptions& o,
                          const std::string& new_credential);

// ---- spokes' calls
// The spoke whose credential this is (any status), or nullopt (unknown code or wrong secret).
std::optional<SpokeRecord> authenticate_spoke(pqxx::connection& c, const std::string& code,
                                              const std::string& secret);
// Records a heartbeat (only an approved or suspended spoke beats; returns its status).
std::optional<SpokeStatus> record_heartbeat(pqxx::connection& c, const std::string& code, const Json& body,
                                            int64_t bundle_revision);

std::vector<SpokeRecord> list_spokes(pqxx::connection& c);
// The newest audit rows (all spokes, or one), newest first.
Json audit_log(pqxx::connection& c, const std::string& code, int limit);

}  // namespace dive::federation
