#include "common/config.hpp"

#include <gtest/gtest.h>

#include "common/fs.hpp"

using dive::Config;
using dive::ConfigError;
using dive::Json;

TEST(Config, GetWithDefaultsAndNestedPaths) {
  Config c(Json::parse(R"({"log":{"level":"info"},"breakers":{"pdp":{"timeout_ms":60000}}})"));
  EXPECT_EQ(c.get<std::string>("log.level", "x"), "info");
  EXPECT_EQ(c.get<int>("breakers.pdp.timeout_ms", 1), 60000);
  EXPECT_EQ(c.get<int>("breakers.idp.timeout_ms", 7), 7);
  EXPECT_TRUE(c.has("breakers.pdp"));
  EXPECT_FALSE(c.has("breakers.kas"));
}

TEST(Config, RequireNamesTheMissingKey) {
  Config c(Json::parse(R"({"a":{}})"));
  try {
    c.require<int>("a.b");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("a.b"), std::string::npos);
  }
}

TEST(Config, WrongTypeIsAnError) {
  Config c(Json::parse(R"({"port":"not-a-number"})"));
  EXPECT_THROW(c.get<int>("port", 1), ConfigError);
}

TEST(Config, EnvOverridesLeavesByPathAndType) {
  Config c(Json::parse(R"({"log":{"level":"info","json":false},"ports":{"api":4000},"ratio":0.5})"));
  auto applied = c.apply_env({{"DIVE_LOG_LEVEL", "debug"},
                              {"DIVE_LOG_JSON", "true"},
                              {"DIVE_PORTS_API", "4100"},
                              {"DIVE_RATIO", "0.25"},
                              {"DIVE_UNKNOWN", "ignored"}});
  EXPECT_EQ(applied.size(), 4u);
  EXPECT_EQ(c.get<std::string>("log.level", ""), "debug");
  EXPECT_TRUE(c.get<bool>("log.json", false));
  EXPECT_EQ(c.get<int>("ports.api", 0), 4100);
  EXPECT_DOUBLE_EQ(c.get<double>("ratio", 0), 0.25);
  EXPECT_FALSE(c.has("unknown"));
}

TEST(Config, BadEnvValueNamesTheVariable) {
  Config c(Json::parse(R"({"ports":{"api":4000},"log":{"json":false}})"));
  try {
    c.apply_env({{"DIVE_PORTS_API", "40x0"}});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("DIVE_PORTS_API"), std::string::npos);
  }
  EXPECT_THROW(c.apply_env({{"DIVE_LOG_JSON", "maybe"}}), ConfigError);
  EXPECT_EQ(c.get<int>("ports.api", 0), 4000);
}

TEST(Config, LoadReportsUnparsableFile) {
  dive::TempDir d;
  auto p = d.path() / "instance.json";
  dive::write_file_atomic(p, "{not json", 0600);
  EXPECT_THROW(Config::load(p.string()), ConfigError);
  dive::write_file_atomic(p, "[1,2]", 0600);
  EXPECT_THROW(Config::load(p.string()), ConfigError);
  dive::write_file_atomic(p, R"({"code":"USA"})", 0600);
  EXPECT_EQ(Config::load(p.string()).get<std::string>("code", ""), "USA");
}
