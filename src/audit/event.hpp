#pragma once
// One record of the audit trail as a writer hands it over (docs/AUDIT.md): who (actor, its issuer, the
// source address), what (type, resource), when (UTC ms), through which service, the outcome and its reason,
// the request id, and a small JSON object of details. Never a token, password, one-time code, key or
// plaintext: writers put none in, and sanitize() cuts every field to its limit and blanks anything shaped
// like a JWT (a second line of defence).
//
// A Recorder takes events without ever blocking the caller (AuditSink queues them for its writer thread).
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace dive::audit {

// The four outcomes (the table's CHECK constraint).
inline constexpr const char* kAllow = "allow";      // an authorization decision that allowed
inline constexpr const char* kDeny = "deny";        // ... that refused
inline constexpr const char* kSuccess = "success";  // an action that was carried out
inline constexpr const char* kFailure = "failure";  // an action that failed (bad input, a dependency down)
bool valid_outcome(std::string_view o);

struct Event {
  int64_t at_ms = 0;  // UTC ms since the epoch; 0: stamped by the recorder's clock
  std::string type;   // "auth.login", "access.read", "kas.key_request", "admin.deploy", ...
  std::string actor;  // uniqueID, username, client id, or the operator's user@host
  std::string actor_issuer;
  std::string source_ip;
  std::string service;  // api, idp, kas, pdp, cli
  std::string resource;
  std::string outcome;  // kAllow, kDeny, kSuccess, kFailure
  std::string reason;
  std::string request_id;
  std::string details = "{}";  // a JSON object, compact

  bool operator==(const Event&) const = default;
};

// Limits (bytes) of the fields; longer values are cut at a UTF-8 boundary and end with "…".
inline constexpr size_t kMaxField = 256;  // type, actor, issuer, source_ip, service, resource, request id
inline constexpr size_t kMaxReason = 1024;
inline constexpr size_t kMaxDetails = 4096;  // a longer details object is replaced by {"truncated":true}

// Makes an event safe to store and hash: valid UTF-8 (invalid bytes become U+FFFD), no NUL, within the
// limits, a details text shaped like a JSON object ("{…}"), anything that looks like a JWT ("eyJ…" "."
// "eyJ…") replaced by "[redacted]", an unknown outcome recorded as "failure" (its text kept in the reason).
void sanitize(Event& e);

// A details object as compact JSON text (for writers building it as a Json).
std::string details(const Json& object);

class Recorder {
 public:
  virtual ~Recorder() = default;
  // Takes the event; never blocks and never throws (a recorder that cannot keep it counts and logs that).
  virtual void record(Event e) noexcept = 0;
};

// Records nothing (audit disabled, or a component without a trail).
class NullRecorder final : public Recorder {
 public:
  void record(Event) noexcept override {}
  static NullRecorder& instance();
};

}  // namespace dive::audit
