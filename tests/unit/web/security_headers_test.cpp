// The console's security headers: exact values, and the CSP's guarantees (no unsafe-inline/eval, no framing).
#include <gtest/gtest.h>

#include "web/security_headers.hpp"

using namespace dive;
using namespace dive::web;

TEST(WebSecurityHeaders, ExactSet) {
  const net::Headers& h = security_headers();
  EXPECT_EQ(
      h.get("Content-Security-Policy"),
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
      "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
  EXPECT_EQ(h.get("Strict-Transport-Security"), "max-age=31536000");
  EXPECT_EQ(h.get("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(h.get("Referrer-Policy"), "no-referrer");
  EXPECT_EQ(h.get("Cross-Origin-Opener-Policy"), "same-origin");
  EXPECT_EQ(h.get("Cross-Origin-Resource-Policy"), "same-origin");
  EXPECT_EQ(h.get("Permissions-Policy"), "camera=(), microphone=(), geolocation=(), payment=(), usb=()");
  EXPECT_EQ(h.get("X-Frame-Options"), "DENY");
  EXPECT_EQ(h.size(), 8u);
}

TEST(WebSecurityHeaders, ThePolicyAllowsNothingUnsafe) {
  const std::string csp(kContentSecurityPolicy);
  for (const char* bad : {"unsafe-inline", "unsafe-eval", "unsafe-hashes", "*", "http:", "https:", "blob:"})
    EXPECT_EQ(csp.find(bad), std::string::npos) << bad;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_NE(csp.find("object-src 'none'"), std::string::npos);
  EXPECT_EQ(csp.find('\n'), std::string::npos);
}
