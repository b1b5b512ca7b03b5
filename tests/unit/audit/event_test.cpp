// Events made safe to store and hash (sanitize), and the JSON batch audit_append() takes.
#include <gtest/gtest.h>

#include "audit/event.hpp"
#include "audit/pg_store.hpp"

using namespace dive;
using namespace dive::audit;

TEST(AuditEvent, SanitizeKeepsAGoodEventAsItIs) {
  Event e;
  e.type = "auth.login";
  e.actor = "testuser-usa-1";
  e.outcome = kSuccess;
  e.reason = "signed in — ok";
  e.details = R"({"client":"dive-cli"})";
  Event before = e;
  sanitize(e);
  EXPECT_EQ(e, before);
}

TEST(AuditEvent, SanitizeCutsLongFieldsAtACharacterBoundary) {
  Event e;
  e.outcome = kFailure;
  e.actor = std::string(300, 'a');
  e.reason = std::string(1021, 'r') + "\xC3\xA9\xC3\xA9";  // é é across the limit
  sanitize(e);
  EXPECT_EQ(e.actor.size(), kMaxField);
  EXPECT_EQ(e.actor.substr(kMaxField - 3), "\xE2\x80\xA6");
  EXPECT_LE(e.reason.size(), kMaxReason);
  EXPECT_EQ(e.reason.substr(e.reason.size() - 3), "\xE2\x80\xA6");
  EXPECT_EQ(e.reason.find("\xC3\xE2"), std::string::npos) << "no half character";
}

TEST(AuditEvent, SanitizeMakesValidUtf8WithoutNul) {
  Event e;
  e.outcome = kDeny;
  e.actor = std::string("bad\xFF\xFEname\0x", 11);
  e.resource = "\xC0\xAF";  // an overlong '/'
  sanitize(e);
  EXPECT_EQ(e.actor, "bad\xEF\xBF\xBD\xEF\xBF\xBDnamex");
  EXPECT_EQ(e.resource, "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(AuditEvent, SanitizeRedactsAnythingShapedLikeAToken) {
  Event e;
  e.outcome = kFailure;
  e.reason = "bad bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl here";
  e.details = R"({"note":"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0"})";
  e.actor = "eyJ";  // too short to be a token: kept
  sanitize(e);
  EXPECT_EQ(e.reason, "bad bearer [redacted] here");
  EXPECT_EQ(e.details, R"({"note":"[redacted]"})");
  EXPECT_EQ(e.actor, "eyJ");
}

TEST(AuditEvent, SanitizeRecordsAnUnknownOutcomeAsAFailure) {
  Event e;
  e.outcome = "maybe";
  e.reason = "x";
  sanitize(e);
  EXPECT_EQ(e.outcome, kFailure);
  EXPECT_EQ(e.reason, "(outcome 'maybe') x");
  EXPECT_TRUE(valid_outcome(kAllow) && valid_outcome(kDeny) && valid_outcome(kSuccess));
}

TEST(AuditEvent, SanitizeKeepsDetailsAnObject) {
  Event e;
  e.outcome = kAllow;
  e.details = "";
  sanitize(e);
  EXPECT_EQ(e.details, "{}");
  e.details = "[1,2]";
  sanitize(e);
  EXPECT_EQ(e.details, R"({"invalid":true})");
  e.details = "{\"x\":\"" + std::string(5000, 'y') + "\"}";
  sanitize(e);
  EXPECT_EQ(e.details, R"({"truncated":true})");
}

TEST(AuditEvent, DetailsOfAJsonObject) {
  EXPECT_EQ(details(Json{{"b", 1}, {"a", "x"}}), R"({"a":"x","b":1})");
  EXPECT_EQ(details(Json::array()), "{}");
  EXPECT_EQ(details(Json{{"bad", std::string("\xFF")}}), "{\"bad\":\"\xEF\xBF\xBD\"}");
}

TEST(AuditEvent, TheBatchIsOneArrayLiteralPerField) {
  Event e;
  e.at_ms = 5;
  e.type = "t.x";
  e.reason = "quote \" backslash \\ comma, brace } NULL";
  e.outcome = kAllow;
  Event f = e;
  f.at_ms = 6;
  f.reason = "NULL";
  auto a = batch_arrays({e, f});
  ASSERT_EQ(a.size(), 11u);
  EXPECT_EQ(a[0], "{5,6}");
  EXPECT_EQ(a[1], R"({"t.x","t.x"})");
  EXPECT_EQ(a[8], R"({"quote \" backslash \\ comma, brace } NULL","NULL"})") << "quoted: never a NULL";
  EXPECT_EQ(a[10], R"({"{}","{}"})") << "details travel as text: hashed exactly as written";
  auto none = batch_arrays({});
  for (const auto& s : none) EXPECT_EQ(s, "{}");
}

TEST(AuditEvent, TheNullRecorderTakesEverything) {
  Event e;
  NullRecorder::instance().record(e);
  SUCCEED();
}
