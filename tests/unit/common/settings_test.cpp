// SettingsReader: typed reads with defaults, and a ConfigError naming the file and the key for anything else.
#include "common/settings.hpp"

#include <gtest/gtest.h>

using namespace dive;
using namespace std::chrono_literals;

namespace {

// The message of the ConfigError that `read` throws ("" when it throws none).
template <class F>
std::string refusal(F read) {
  try {
    read();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(SettingsReader, AbsentOrNullGivesTheDefault) {
  const Json j = Json::parse(R"({"http": {"read_timeout_ms": null}, "log": {}})");
  const SettingsReader r(j);
  EXPECT_EQ(r.millis("http.read_timeout_ms", 10000ms), 10000ms);
  EXPECT_EQ(r.millis("http.nothing_ms", 7ms), 7ms);
  EXPECT_EQ(r.text("log.level", "info"), "info");
  EXPECT_EQ(r.text("no.such.section", "x"), "x");
  EXPECT_TRUE(r.flag("audit.enabled", true));
  EXPECT_EQ(r.count("api.capacity", 100000), 100000u);
  EXPECT_TRUE(r.texts("kas_former_urls").empty());
  EXPECT_FALSE(r.has("http.read_timeout_ms"));
  EXPECT_TRUE(r.has("http"));
}

TEST(SettingsReader, GivenValuesAreRead) {
  const Json j = Json::parse(R"({"http": {"read_timeout_ms": 250, "shed_idle_at": 0.5, "workers": 3},
    "revocation": {"max_staleness_s": 3}, "log": {"level": "debug", "json": true},
    "database": {"port": 5442}, "urls": ["a", "b"], "jitter_ms": 0})");
  const SettingsReader r(j);
  EXPECT_EQ(r.millis("http.read_timeout_ms", 10000ms), 250ms);
  EXPECT_DOUBLE_EQ(r.number("http.shed_idle_at", 0.9, 0, 1), 0.5);
  EXPECT_EQ(r.whole("http.workers", 16, 1), 3);
  EXPECT_EQ(r.seconds("revocation.max_staleness_s", 300s), 3s);
  EXPECT_EQ(r.text("log.level", "info"), "debug");
  EXPECT_TRUE(r.flag("log.json", false));
  EXPECT_EQ(r.port("database.port", 5432), 5442);
  EXPECT_EQ(r.texts("urls"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.millis("jitter_ms", 250ms, 0ms), 0ms) << "0 where the minimum allows it";
}

TEST(SettingsReader, ABadValueIsRefusedWithAMessageNamingTheFileAndTheKey) {
  const Json j = Json::parse(R"({"http": {"read_timeout_ms": -5, "worker_threads": "16", "io": 2.5},
    "api": {"decision_cache_capacity": 0, "decision_cache": "yes"}, "database": {"port": 70000},
    "log": {"level": 3}, "shed": 1.5, "urls": ["a", 1]})");
  const SettingsReader r(j, "instance.json");
  EXPECT_EQ(refusal([&] { r.millis("http.read_timeout_ms", 10000ms); }),
            "instance.json http.read_timeout_ms must be a whole number of milliseconds, at least 1 (got -5)");
  EXPECT_EQ(refusal([&] { r.count("api.decision_cache_capacity", 100000); }),
            "instance.json api.decision_cache_capacity must be a whole number, at least 1 (got 0)");
  EXPECT_EQ(refusal([&] { r.whole("http.worker_threads", 16, 1, 4096); }),
            "instance.json http.worker_threads must be a whole number from 1 to 4096 (got \"16\")");
  EXPECT_EQ(refusal([&] { r.flag("api.decision_cache", true); }),
            "instance.json api.decision_cache must be true or false (got \"yes\")");
  EXPECT_EQ(refusal([&] { r.port("database.port", 5432); }),
            "instance.json database.port must be a whole number from 1 to 65535 (got 70000)");
  EXPECT_EQ(refusal([&] { r.text("log.level", "info"); }),
            "instance.json log.level must be a string (got 3)");
  EXPECT_EQ(refusal([&] { r.number("shed", 0.9, 0, 1); }),
            "instance.json shed must be a number from 0 to 1 (got 1.5)");
  EXPECT_NE(refusal([&] { r.whole("http.io", 0, 0); }).find("http.io must be a whole number"),
            std::string::npos)
      << "2.5 is not a whole number";
  EXPECT_NE(refusal([&] { r.texts("urls"); }).find("urls must be an array of strings"), std::string::npos);
  EXPECT_NE(refusal([&] { r.seconds("http.read_timeout_ms", 1s); }).find("at least 1"), std::string::npos);
  EXPECT_EQ(refusal([&] { r.millis("http.read_timeout_ms", 10000ms, 0ms); }),
            "instance.json http.read_timeout_ms must be a whole number of milliseconds, at least 0 (got -5)");
}

TEST(SettingsReader, HugeNumbersAreRefusedNotWrapped) {
  const Json j = Json::parse(R"({"a_ms": 18446744073709551615, "b_ms": 4294967296, "n": -1})");
  const SettingsReader r(j);
  EXPECT_THROW(r.millis("a_ms", 1ms), ConfigError);
  EXPECT_THROW(r.millis("b_ms", 1ms), ConfigError);
  EXPECT_THROW(r.count("n", 5), ConfigError) << "-1 is no capacity (it would wrap to 2^64 - 1)";
  EXPECT_THROW(r.count("a_ms", 5), ConfigError);
}
