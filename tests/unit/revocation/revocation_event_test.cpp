#include <gtest/gtest.h>

#include "identity/revocation.hpp"
#include "identity/revocation_event.hpp"

using namespace dive;
using namespace dive::identity;

TEST(RevocationEvent, TokenAndUserRoundTripThroughTheMessage) {
  auto t = RevocationEvent::token("jti-1", 1700000900, 1700000000123, "USA");
  EXPECT_EQ(t.key(), "blacklist:jti-1");
  EXPECT_EQ(t.channel(), "dive-v3:token-blacklist");
  EXPECT_EQ(RevocationEvent::parse(t.to_json().dump()), t);
  auto u = RevocationEvent::user("testuser-usa-1", 1700000000000, 1700000000001, "FRA");
  EXPECT_EQ(u.key(), "user-revoked:testuser-usa-1");
  EXPECT_EQ(u.channel(), "dive-v3:user-revoked");
  Json j = u.to_json();
  EXPECT_EQ(j["type"], "user");
  EXPECT_EQ(j["uniqueID"], "testuser-usa-1");
  EXPECT_EQ(j["at"], 1700000000000);
  EXPECT_EQ(RevocationEvent::parse(j.dump()), u);
}

TEST(RevocationEvent, MalformedMessagesAreRefused) {
  for (const char* text :
       {"", "null", "[]", "{}", R"({"type":"token","exp":1})", R"({"type":"token","jti":"","exp":1})",
        R"({"type":"token","jti":"a","exp":"1"})", R"({"type":"user","uniqueID":"u"})",
        R"({"type":"group","jti":"a","exp":1})", "{\"type\":\"token\""})
    EXPECT_FALSE(RevocationEvent::parse(text)) << text;
}

TEST(RevocationEvent, IssueTimeIsIatMsWhenPresentElseIatInMs) {
  EXPECT_EQ(issued_ms_of(Json{{"iat", 1700000000}, {"iat_ms", 1700000000456}}, 1700000000), 1700000000456);
  EXPECT_EQ(issued_ms_of(Json{{"iat", 1700000000}}, 1700000000), 1700000000000);
  // iat_ms is bounded by iat: a later (or earlier) millisecond than the signed second is ignored, so no
  // token can claim to be issued after a revocation it predates.
  EXPECT_EQ(issued_ms_of(Json{{"iat", 1700000000}, {"iat_ms", 1700000000999}}, 1700000000), 1700000000999);
  EXPECT_EQ(issued_ms_of(Json{{"iat", 1700000000}, {"iat_ms", 1700000001000}}, 1700000000), 1700000000000);
  EXPECT_EQ(issued_ms_of(Json{{"iat", 1700000000}, {"iat_ms", 1800000000000}}, 1700000000), 1700000000000);
  EXPECT_EQ(issued_ms_of(Json{{"iat", 1700000000}, {"iat_ms", 1699999999999}}, 1700000000), 1700000000000);
  EXPECT_EQ(issued_ms_of(Json{{"iat_ms", "1700000000456"}}, 1700000000), 1700000000000);
}
