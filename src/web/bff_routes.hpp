#pragma once
// The console backend's HTTP edge (docs/WEB.md): maps the Bff's typed results to statuses, cookies and
// redirects, and guards every state-changing request against CSRF.
//
//   GET  /auth/login?nation=CODE&return=PATH  302 to the nation's identity provider (login cookie set)
//   GET  /auth/callback                       302 back into the console with the session cookie
//   GET  /bff/session                         who is signed in (and the CSRF token), or the nations to choose
//   POST /bff/logout                          sign out everywhere (CSRF)
//   GET  /bff/api/...   POST /bff/api/...      the api, as the signed-in user (POST: CSRF)
//   GET  /bff/operations                      the operations view (role admin)
//
// Cookies: __Host-dive_session (Secure, HttpOnly, SameSite=Strict, Path=/; the session lives on the server)
// and, during a sign-in, __Host-dive_login (SameSite=Lax: it must come back on the identity provider's
// redirect; it binds the callback to the browser that started the sign-in).
#include <memory>

#include "metrics/registry.hpp"
#include "net/http.hpp"
#include "net/router.hpp"
#include "web/bff.hpp"

namespace dive::web {

inline constexpr const char* kSessionCookie = "__Host-dive_session";
inline constexpr const char* kLoginCookie = "__Host-dive_login";
inline constexpr const char* kCsrfHeader = "X-CSRF-Token";

// Metrics (docs/WEB.md): dive_v3_web_signins_total{outcome}, dive_v3_web_signouts_total{revoked},
// dive_v3_web_csrf_refusals_total, dive_v3_web_sessions.
void add_bff_routes(net::Router& router, std::shared_ptr<Bff> bff, metrics::Registry& registry);

// Whether a state-changing request may act for the session: its X-CSRF-Token equals the session's token,
// and the browser says it comes from the console's own origin (Origin, Sec-Fetch-Site, when sent).
bool csrf_ok(const net::Request& req, const WebSession& s, const std::string& web_origin);

}  // namespace dive::web
