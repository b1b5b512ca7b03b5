#pragma once
// The security headers of the web console (docs/WEB.md): set on every response of `dive serve web`, its
// errors and health routes included (net::ServerConfig::default_headers). The console loads nothing but
// its own files: no inline script or style, no eval, no framing, no CDN.
#include <string_view>

#include "net/http.hpp"

namespace dive::web {

inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

// Content-Security-Policy (above), Strict-Transport-Security, X-Content-Type-Options, Referrer-Policy,
// Cross-Origin-Opener-Policy, Cross-Origin-Resource-Policy, Permissions-Policy and X-Frame-Options.
const net::Headers& security_headers();

}  // namespace dive::web
