#include <gtest/gtest.h>

#include "common/encoding.hpp"
#include "identity/idp/form.hpp"

using namespace dive;
using namespace dive::identity::idp;

TEST(Form, DecodesPercentAndPlus) {
  auto f = parse_form("grant_type=password&username=testuser-usa-1&password=a%26b+c%3D&empty=");
  EXPECT_EQ(f.get("grant_type"), "password");
  EXPECT_EQ(f.get("password"), "a&b c=");
  EXPECT_FALSE(f.has("empty"));
  EXPECT_FALSE(f.has("absent"));
  EXPECT_TRUE(f.duplicate.empty());
}

TEST(Form, ADuplicateParameterIsReported) {
  auto f = parse_form("client_id=a&client_id=b");
  EXPECT_EQ(f.duplicate, "client_id");
  EXPECT_EQ(f.get("client_id"), "a");
}

TEST(Form, AtMostMaxParamsAreKept) {
  std::string body;
  for (int i = 0; i < 100; ++i) body += "p" + std::to_string(i) + "=v&";
  auto f = parse_form(body, 64);
  EXPECT_EQ(f.values.size(), 64u);
}

TEST(Form, QueryOfTarget) {
  EXPECT_EQ(query_of("/auth?client_id=x&state=y#frag"), "client_id=x&state=y");
  EXPECT_EQ(query_of("/auth"), "");
}

TEST(Form, BasicCredentialsAreDecodedTwice) {
  // RFC 6749 §2.3.1: id and secret are form-urlencoded, then base64.
  auto c = parse_basic_auth("Basic " + base64_encode("dive%2Dapi:s%3Ac+r"));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->first, "dive-api");
  EXPECT_EQ(c->second, "s:c r");
  EXPECT_TRUE(parse_basic_auth("basic " + base64_encode("a:b")));
  EXPECT_FALSE(parse_basic_auth("Bearer abc"));
  EXPECT_FALSE(parse_basic_auth("Basic !!!"));
  EXPECT_FALSE(parse_basic_auth("Basic " + base64_encode("no-colon")));
}

TEST(Form, AddQueryEncodesAndJoins) {
  EXPECT_EQ(add_query("https://x/cb", {{"code", "a b"}, {"state", "s&t"}}),
            "https://x/cb?code=a%20b&state=s%26t");
  EXPECT_EQ(add_query("https://x/cb?k=v", {{"code", "c"}}), "https://x/cb?k=v&code=c");
}
