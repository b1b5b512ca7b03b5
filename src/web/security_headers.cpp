#include "web/security_headers.hpp"

#include <string>

namespace dive::web {

const net::Headers& security_headers() {
  static const net::Headers headers = [] {
    net::Headers h;
    h.set("Content-Security-Policy", std::string(kContentSecurityPolicy));
    // One year, this host only: the console is always HTTPS; includeSubDomains would bind names it does
    // not serve (and every other port of localhost is the same host to a browser anyway).
    h.set("Strict-Transport-Security", "max-age=31536000");
    h.set("X-Content-Type-Options", "nosniff");
    h.set("Referrer-Policy", "no-referrer");
    h.set("Cross-Origin-Opener-Policy", "same-origin");
    h.set("Cross-Origin-Resource-Policy", "same-origin");
    h.set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()");
    h.set("X-Frame-Options", "DENY");
    return h;
  }();
  return headers;
}

}  // namespace dive::web
