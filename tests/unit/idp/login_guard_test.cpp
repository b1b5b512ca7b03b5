// The sign-in form's double-submit token: only a submission carrying the same token in its cookie and in
// its form field is accepted.
#include "identity/idp/login_guard.hpp"

#include <gtest/gtest.h>

#include "net/cookies.hpp"

using namespace dive::identity::idp;
namespace net = dive::net;

TEST(LoginGuard, TokensAreRandomAndTheCookieIsLockedDown) {
  std::string a = new_login_token(), b = new_login_token();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.size(), 32u);
  std::string c = login_cookie(a, "/realms/r/protocol/openid-connect/auth");
  EXPECT_EQ(c.rfind("DIVE_LOGIN=" + a + "; ", 0), 0u) << c;
  for (const char* attr : {"; Path=/realms/r/protocol/openid-connect/auth", "; Secure", "; HttpOnly",
                           "; SameSite=Strict", "; Max-Age=900"})
    EXPECT_NE(c.find(attr), std::string::npos) << attr;
}

TEST(LoginGuard, CookieValuesAreFoundByExactName) {
  EXPECT_EQ(net::cookie_value("a=1; DIVE_LOGIN=xyz; b=2", "DIVE_LOGIN"), "xyz");
  EXPECT_EQ(net::cookie_value("DIVE_LOGIN=xyz", "DIVE_LOGIN"), "xyz");
  EXPECT_EQ(net::cookie_value("  DIVE_LOGIN=xyz  ;b=2", "DIVE_LOGIN"), "xyz");
  EXPECT_FALSE(net::cookie_value("XDIVE_LOGIN=xyz; DIVE_LOGINX=abc", "DIVE_LOGIN").has_value());
  EXPECT_FALSE(net::cookie_value("", "DIVE_LOGIN").has_value());
  EXPECT_FALSE(net::cookie_value("DIVE_LOGIN", "DIVE_LOGIN").has_value());
  EXPECT_EQ(net::cookie_value("DIVE_LOGIN=", "DIVE_LOGIN"), "");
}

TEST(LoginGuard, OnlyTheSameTokenInCookieAndFieldPasses) {
  std::string t = new_login_token();
  EXPECT_TRUE(login_token_matches("DIVE_LOGIN=" + t, t));
  EXPECT_TRUE(login_token_matches("x=1; DIVE_LOGIN=" + t, t));
  EXPECT_FALSE(login_token_matches(std::nullopt, t)) << "no cookie: a cross-site submission";
  EXPECT_FALSE(login_token_matches("DIVE_LOGIN=" + t, "")) << "no field";
  EXPECT_FALSE(login_token_matches("DIVE_LOGIN=" + t, new_login_token())) << "another form's token";
  EXPECT_FALSE(login_token_matches("OTHER=" + t, t));
  EXPECT_FALSE(login_token_matches("DIVE_LOGIN=", "")) << "empty equals empty is no proof";
  EXPECT_FALSE(login_token_matches("DIVE_LOGIN=short", "short"));
  std::string huge(200, 'a');
  EXPECT_FALSE(login_token_matches("DIVE_LOGIN=" + huge, huge));
}
