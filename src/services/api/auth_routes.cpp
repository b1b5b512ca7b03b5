#include "services/api/auth_routes.hpp"

#include <spdlog/spdlog.h>

#include "identity/log_safe.hpp"
#include "identity/revocation_store.hpp"
#include "net/router.hpp"
#include "services/runtime/audit_events.hpp"
#include "services/runtime/authenticator.hpp"
#include "services/runtime/revocation_runtime.hpp"
#include "services/runtime/service_context.hpp"
#include "services/runtime/token_auth.hpp"

namespace dive::services {

namespace {
using identity::VerifiedToken;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Json claim_or_null(const VerifiedToken& t, const char* name) {
  auto it = t.claims.find(name);
  return it == t.claims.end() ? Json(nullptr) : *it;
}

Json identity_of(const VerifiedToken& t) {
  Json j{{"uniqueID", revocation_subject(t)},
         {"sub", t.subject},
         {"iss", t.issuer},
         {"aud", t.audience},
         {"azp", t.azp},
         {"jti", t.jti},
         {"exp", t.exp},
         {"iat", t.iat},
         {"issuedAtMs", issued_ms(t)},
         {"acr", t.acr},
         {"amr", t.amr}};
  if (t.auth_time) j["auth_time"] = t.auth_time;
  for (const char* c : {"preferred_username", "clearance", "countryOfAffiliation", "acpCOI",
                        "organizationType", "dutyOrg", "orgUnit", "roles"})
    j[c] = claim_or_null(t, c);
  return j;
}

std::string propagation(identity::RevocationStore::Outcome o) {
  return std::string(identity::RevocationStore::to_string(o));
}

// POST /api/auth/logout: every token of the user issued before now revoked on every instance, and this
// one by its jti.
net::Response logout(identity::RevocationStore& store, audit::Recorder& trail, const net::Request& req,
                     const VerifiedToken& t) {
  const int64_t at = now_ms();
  const std::string uid = revocation_subject(t);
  auto user = store.submit_user(uid, at);
  if (!t.jti.empty()) store.submit_token(t.jti, t.exp);
  spdlog::info("request {}: logout of {} (every token issued before {}): {}", req.request_id,
               identity::log_safe(uid), at, propagation(user));
  audit::Event e = request_event(req, t, "auth.logout");
  e.outcome = audit::kSuccess;
  e.reason = "every token of the user issued before now revoked on every instance";
  e.details = audit::details(Json{{"jti", t.jti}, {"revokedAt", at}, {"propagation", propagation(user)}});
  trail.record(std::move(e));
  return net::Response::json(
      200, Json{{"success", true},
                {"message", "Logged out: every token issued before now is revoked on every instance"},
                {"details", {{"uniqueID", uid}, {"revokedAt", at}, {"propagation", propagation(user)}}},
                {"requestId", req.request_id}});
}

// POST /api/auth/revoke: the caller's token revoked by its holder.
net::Response revoke_own_token(identity::RevocationStore& store, audit::Recorder& trail,
                               const net::Request& req, const VerifiedToken& t) {
  const int64_t at = now_ms();
  auto o = store.submit_token(t.jti, t.exp);
  spdlog::info("request {}: token {} revoked: {}", req.request_id, t.raw_hash.substr(0, 16), propagation(o));
  audit::Event e = request_event(req, t, "token.revoked");
  e.outcome = audit::kSuccess;
  e.reason = "revoked by its holder";
  e.details = audit::details(Json{{"jti", t.jti}, {"expiresAt", t.exp}, {"propagation", propagation(o)}});
  trail.record(std::move(e));
  return net::Response::json(
      200, Json{{"success", true},
                {"message", "Token revoked"},
                {"details",
                 {{"jti", t.jti}, {"revokedAt", at}, {"expiresAt", t.exp}, {"propagation", propagation(o)}}},
                {"requestId", req.request_id}});
}

}  // namespace

void add_auth_routes(ServiceContext& ctx, TokenAuth& auth) {
  auto& r = ctx.router();
  auto* store = &auth.revocation().store();

  // Authenticated routes run on workers: validating a token may fetch its issuer's keys.
  r.add("GET", "/api/auth/me", auth.protect([](net::Request&, const VerifiedToken& t) {
    return net::Response::json(200, identity_of(t));
  }));

  audit::Recorder* trail = &ctx.audit();
  r.add("POST", "/api/auth/logout", auth.protect([store, trail](net::Request& req, const VerifiedToken& t) {
    return logout(*store, *trail, req, t);
  }));
  r.add("POST", "/api/auth/revoke", auth.protect([store, trail](net::Request& req, const VerifiedToken& t) {
    return revoke_own_token(*store, *trail, req, t);
  }));

  r.add(
      "GET", "/api/auth/revocations/status",
      [&auth](net::Request&) { return net::Response::json(200, auth.revocation().status()); },
      net::Exec::Inline);
}

}  // namespace dive::services
