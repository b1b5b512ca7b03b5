#include "common/json.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/fs.hpp"
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

TEST(Json, LimitedParserRejectsNulBytesAndOverflowingNumbers) {
  EXPECT_THROW(parse_json_limited(std::string("{}\0{\"a\":1}", 10)), std::invalid_argument);
  EXPECT_THROW(parse_json_limited("[1e400]"), std::invalid_argument);
  EXPECT_EQ(parse_json_limited("[1e300]")[0].get<double>(), 1e300);
}

TEST(Logging, JsonEscape) {
  EXPECT_EQ(json_escape("a\"b\\c\n\x01"), "a\\\"b\\\\c\\n\\u0001");
}

TEST(Logging, TextModeKeepsEveryMessageOnOneLine) {
  TempDir d;
  auto file = (d.path() / "svc.log").string();
  init_logging(LogOptions{"api-usa", "info", false, file});
  // A request path with %0a decoded, as a forged line would arrive.
  spdlog::info("request GET /api/x\n2026-01-01T00:00:00.000Z info  [api-usa] admin logged in\r\x1b[2J done");
  spdlog::default_logger()->flush();
  auto text = read_file(file);
  init_logging(LogOptions{});  // back to stderr for the other tests
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  EXPECT_NE(text.find("/api/x\\n2026-01-01T00:00:00.000Z info  [api-usa] admin logged in\\r\\x1b[2J done"),
            std::string::npos)
      << text;
  EXPECT_EQ(text_escape("caf\xc3\xa9 \x7f"), "caf\xc3\xa9 \\x7f");
}

TEST(Logging, JsonLinesModeWritesOneParsableObjectPerLine) {
  TempDir d;
  auto file = (d.path() / "svc.log").string();
  init_logging(LogOptions{"pdp-usa", "info", true, file});
  spdlog::info("quote \" backslash \\ newline \n tab \t done");
  spdlog::debug("not at info level");
  spdlog::default_logger()->flush();
  auto lines = read_file(file);
  ASSERT_FALSE(lines.empty());
  Json j = Json::parse(lines.substr(0, lines.find('\n')));
  EXPECT_EQ(j["service"], "pdp-usa");
  EXPECT_EQ(j["level"], "info");
  EXPECT_EQ(j["msg"], "quote \" backslash \\ newline \n tab \t done");
  EXPECT_EQ(lines.find("not at info level"), std::string::npos);
  init_logging(LogOptions{});  // back to stderr for the other tests
}
