// RFC 8785 (JCS) known answers: the examples of §3.2.2 and §3.2.3 and the number table of Appendix B.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ztdf/canonical_json.hpp"
#include "ztdf/error.hpp"

using namespace dive;
using namespace dive::ztdf;

namespace {

double from_bits(uint64_t bits) {
  return std::bit_cast<double>(bits);
}

}  // namespace

TEST(CanonicalJson, Rfc8785MainExample) {
  // §3.2.2: whitespace removed, members sorted, numbers and strings normalised.
  const char* input = R"({
    "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
    "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
    "literals": [null, true, false]
  })";
  EXPECT_EQ(canonical_json(Json::parse(input)),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
            "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}");
}

TEST(CanonicalJson, Rfc8785SortsByUtf16CodeUnits) {
  // §3.2.3: U+1F600 (surrogates D83D DE00) sorts before U+FB33, unlike in UTF-8 / code point order.
  const char* input = R"({
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  })";
  EXPECT_EQ(
      canonical_json(Json::parse(input)),
      "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xc2\x80\":\"Control\","
      "\"\xc3\xb6\":\"Latin Small Letter O With Diaeresis\",\"\xe2\x82\xac\":\"Euro Sign\","
      "\"\xf0\x9f\x98\x80\":\"Emoji: Grinning Face\",\"\xef\xac\xb3\":\"Hebrew Letter Dalet With Dagesh\"}");
}

TEST(CanonicalJson, Rfc8785AppendixBNumbers) {
  struct Case {
    uint64_t bits;
    const char* expected;
  };
  const Case cases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},  // -0
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(canonical_number(from_bits(c.bits)), c.expected) << std::hex << c.bits;
    EXPECT_EQ(canonical_json(Json(from_bits(c.bits))), c.expected) << std::hex << c.bits;
  }
  EXPECT_THROW(canonical_number(from_bits(0x7fffffffffffffff)), FormatError);  // NaN
  EXPECT_THROW(canonical_number(from_bits(0x7ff0000000000000)), FormatError);  // Infinity
  EXPECT_THROW(canonical_json(Json(-std::numeric_limits<double>::infinity())), FormatError);
}

TEST(CanonicalJson, IntegersAndSmallNumbers) {
  EXPECT_EQ(canonical_json(Json::parse("[0, -0, 1, -1, 10, 100, 2048, 1.0, 1.5e3, 1e21, 1e-7, 123e-2]")),
            "[0,0,1,-1,10,100,2048,1,1500,1e+21,1e-7,1.23]");
  EXPECT_EQ(canonical_json(Json(int64_t{9007199254740992})), "9007199254740992");
  EXPECT_EQ(canonical_json(Json(int64_t{-9007199254740992})), "-9007199254740992");
  // Beyond 2^53 an integer is not exactly a double: JCS would silently change it, we refuse.
  EXPECT_THROW(canonical_json(Json(int64_t{9007199254740993})), FormatError);
  EXPECT_THROW(canonical_json(Json(uint64_t{18446744073709551615u})), FormatError);
  try {
    canonical_json(Json::parse(R"({"a":[1,{"b~/":9007199254740993}]})"));
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_EQ(e.path(), "/a/1/b~0~1");
  }
}

TEST(CanonicalJson, StringsEscapeOnlyWhatJcsEscapes) {
  Json j = std::string("\x01\x1f\x7f/<>&'\xe2\x80\xa8\t\b\f");
  EXPECT_EQ(canonical_json(j), "\"\\u0001\\u001f\x7f/<>&'\xe2\x80\xa8\\t\\b\\f\"");
  EXPECT_EQ(canonical_json(Json(std::string("a\0b", 3))), "\"a\\u0000b\"");
}

TEST(CanonicalJson, InvalidUtf8IsRefused) {
  for (const char* bad :
       {"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "a\x80"}) {
    EXPECT_FALSE(valid_utf8(bad)) << bad;
    EXPECT_THROW(canonical_json(Json(std::string(bad))), FormatError);
    Json obj = Json::object();
    obj[std::string(bad)] = 1;
    EXPECT_THROW(canonical_json(obj), FormatError);
  }
  EXPECT_TRUE(valid_utf8("\xf0\x9f\x98\x80 \xc3\xb6 \xe2\x82\xac"));
}

TEST(CanonicalJson, NestedSortingAndIdempotence) {
  Json j = Json::parse(R"({"b":{"z":1,"a":[{"y":true,"x":null}]},"a":"","B":[],"aa":{}})");
  const std::string c = canonical_json(j);
  EXPECT_EQ(c, R"({"B":[],"a":"","aa":{},"b":{"a":[{"x":null,"y":true}],"z":1}})");
  EXPECT_EQ(canonical_json(Json::parse(c)), c);
}
