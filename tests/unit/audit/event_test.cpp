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
  e.resource = "\xC0\xAF";                 // an overlong '/'
  e.request_id = std::string("r-1\0", 4);  // ASCII but for a NUL
  e.reason = "réason ✓ kept";              // valid UTF-8 beyond ASCII: as it is
  sanitize(e);
  EXPECT_EQ(e.actor, "bad\xEF\xBF\xBD\xEF\xBF\xBDnamex");
  EXPECT_EQ(e.resource, "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(e.request_id, "r-1");
  EXPECT_EQ(e.reason, "réason ✓ kept");
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

// Reads back one array of PostgreSQL's binary format (what array_recv checks, and each element).
std::vector<std::string> read_binary_array(const std::string& a, uint32_t expected_oid) {
  size_t pos = 0;
  auto u32 = [&] {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(a.at(pos++));
    return v;
  };
  EXPECT_EQ(u32(), 1u) << "one dimension";
  EXPECT_EQ(u32(), 0u) << "no NULLs";
  EXPECT_EQ(u32(), expected_oid);
  const uint32_t n = u32();
  EXPECT_EQ(u32(), 1u) << "lower bound";
  std::vector<std::string> out;
  for (uint32_t i = 0; i < n; ++i) {
    const uint32_t len = u32();
    out.push_back(a.substr(pos, len));
    pos += len;
  }
  EXPECT_EQ(pos, a.size()) << "nothing after the last element";
  return out;
}

TEST(AuditEvent, TheBatchIsOneBinaryArrayPerFieldThenTheHashes) {
  Event e;
  e.at_ms = 5;
  e.type = "t.x";
  e.reason = "quote \" backslash \\ comma, brace } NULL ✓";
  e.outcome = kAllow;
  Event f = e;
  f.at_ms = 0x0102030405060708;
  f.reason = "NULL";
  auto a = binary_arrays(std::vector<Event>{e, f}, {std::string(32, 'a'), std::string(32, 'b')});
  ASSERT_EQ(a.size(), 12u);
  auto at = read_binary_array(a[0], 20);  // int8
  ASSERT_EQ(at.size(), 2u);
  EXPECT_EQ(at[0], std::string("\0\0\0\0\0\0\0\x05", 8));
  EXPECT_EQ(at[1], "\x01\x02\x03\x04\x05\x06\x07\x08") << "network byte order";
  EXPECT_EQ(read_binary_array(a[1], 25), (std::vector<std::string>{"t.x", "t.x"}));
  EXPECT_EQ(read_binary_array(a[8], 25), (std::vector<std::string>{e.reason, "NULL"}))
      << "bytes as they are: no quoting, and the text NULL is not a NULL";
  EXPECT_EQ(read_binary_array(a[10], 25), (std::vector<std::string>{"{}", "{}"}))
      << "details travel as text: hashed exactly as written";
  EXPECT_EQ(read_binary_array(a[11], 17),
            (std::vector<std::string>{std::string(32, 'a'), std::string(32, 'b')}));
  auto none = binary_arrays(std::vector<Event>{}, {});
  for (size_t i = 0; i < none.size(); ++i)
    EXPECT_TRUE(read_binary_array(none[i], i == 0 ? 20 : i == 11 ? 17 : 25).empty());
}

TEST(AuditEvent, TheWriterHashesTheChainFromItsHead) {
  Event e;
  e.type = "access.read";
  e.outcome = kAllow;
  Event f = e;
  f.actor = "bob";
  ChainHead head{41, std::string(32, '\x07')};
  auto h = chain_hashes(head, std::vector<Event>{e, f});
  ASSERT_EQ(h.size(), 2u);
  EXPECT_EQ(h[0], link_hash(head.hash, 42, e));
  EXPECT_EQ(h[1], link_hash(h[0], 43, f));
  EXPECT_NE(chain_hashes(ChainHead{40, head.hash}, std::vector<Event>{e})[0], h[0])
      << "the seq is part of what is hashed";
}

TEST(AuditEvent, TheNullRecorderTakesEverything) {
  Event e;
  NullRecorder::instance().record(e);
  SUCCEED();
}
