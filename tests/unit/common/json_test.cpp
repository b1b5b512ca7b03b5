#include "common/json.hpp"

#include <gtest/gtest.h>

#include "common/logging.hpp"

using namespace dive;

TEST(Json, LimitedParserAcceptsNormalDocuments) {
  auto j = parse_json_limited(R"({"a":[1,2,{"b":null}]})");
  EXPECT_EQ(j["a"][2]["b"], nullptr);
}

TEST(Json, LimitedParserRejectsDeepNestingAndGarbage) {
  std::string deep(200, '[');
  deep += std::string(200, ']');
  EXPECT_THROW(parse_json_limited(deep, 64), std::invalid_argument);
  EXPECT_NO_THROW(parse_json_limited(std::string(10, '[') + std::string(10, ']'), 64));
  EXPECT_THROW(parse_json_limited("{\"a\":"), std::invalid_argument);
  try {
    parse_json_limited("{\"secret\": tru");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).find("secret"), std::string::npos) << "errors must not echo input";
  }
}

TEST(Logging, JsonEscape) {
  EXPECT_EQ(json_escape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}
