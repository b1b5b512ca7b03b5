// YAML <-> JSON, Prometheus durations, the test profile's rule files, and the conventions of the
// repository's own rules (monitoring/rules): severity and annotations, a runbook section in
// docs/RUNBOOKS.md, and a firing and a silent promtool case in monitoring/tests for every alert.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "common/fs.hpp"
#include "monitoring/rules.hpp"
#include "monitoring/yaml.hpp"

using namespace dive;
using namespace dive::monitoring;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
const fs::path kSource = DIVE_SOURCE_DIR;

std::vector<fs::path> yml_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".yml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST(Yaml, ScalarsKeepTheirYamlTypesAndQuotedOnesStayStrings) {
  Json j = parse_yaml(
      "a: 1\nb: 2.5\nc: true\nd: ~\ne: 1m\nf: '3'\ng: \"true\"\nh: [x, 2]\ni: {k: v}\nj: -7\nk: 1e3\nl: "
      "null\n");
  EXPECT_EQ(j["a"], 1);
  EXPECT_EQ(j["b"], 2.5);
  EXPECT_EQ(j["c"], true);
  EXPECT_TRUE(j["d"].is_null());
  EXPECT_EQ(j["e"], "1m");
  EXPECT_EQ(j["f"], "3");
  EXPECT_EQ(j["g"], "true");
  EXPECT_EQ(j["h"], Json::parse(R"(["x", 2])"));
  EXPECT_EQ(j["i"]["k"], "v");
  EXPECT_EQ(j["j"], -7);
  EXPECT_EQ(j["k"], 1000.0);
  EXPECT_TRUE(j["l"].is_null());
}

TEST(Yaml, WhatIsWrittenReadsBackTheSame) {
  Json doc = Json::parse(R"({"s": "1", "t": "a: b # not a comment", "n": 3, "f": 0.25, "b": false, "z": null,
                             "list": [{"x": "\"quoted\""}, "line\nbreak", []], "empty": {}})");
  EXPECT_EQ(parse_yaml(to_yaml(doc)), doc) << to_yaml(doc);
}

TEST(Yaml, AnchorsAreExpandedAndSyntaxErrorsNameTheLine) {
  Json j = parse_yaml("base: &b\n  x: 1\ncopy: *b\n");
  EXPECT_EQ(j["copy"]["x"], 1);
  try {
    parse_yaml("a: 1\nb: [unclosed\n");
    FAIL() << "a syntax error must throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("line"), std::string::npos) << e.what();
  }
}

TEST(Durations, ParseAndFormatPrometheusDurations) {
  EXPECT_EQ(parse_duration("90s"), Millis(90000));
  EXPECT_EQ(parse_duration("1h30m"), Millis(5400000));
  EXPECT_EQ(parse_duration("250ms"), Millis(250));
  EXPECT_EQ(parse_duration("2d"), Millis(2 * 86400000LL));
  EXPECT_EQ(parse_duration("1w"), Millis(7 * 86400000LL));
  EXPECT_EQ(parse_duration("0"), Millis(0));
  for (const char* bad : {"", "m", "1x", "30m1h", "1h1h", "-1m", "1.5m", " 1m"})
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  EXPECT_EQ(format_duration(Millis(90000)), "1m30s");
  EXPECT_EQ(format_duration(Millis(3600000)), "1h");
  EXPECT_EQ(format_duration(Millis(1500)), "1s500ms");
  EXPECT_EQ(format_duration(Millis(0)), "0s");
}

TEST(TestProfile, ForDurationsShrinkToSecondsAndKeepTheirOrder) {
  EXPECT_EQ(test_profile_for(1min), 6s);
  EXPECT_EQ(test_profile_for(2min), 12s);
  EXPECT_EQ(test_profile_for(5min), 15s);
  EXPECT_EQ(test_profile_for(1h), 15s);
  EXPECT_EQ(test_profile_for(5s), 1s);
  EXPECT_EQ(test_profile_for(0s), 0s);
  Json rules = parse_yaml(
      "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 1m\n  - alert: B\n    expr: "
      "up == 0\n"
      "  - record: r\n    expr: sum(up)\n");
  Json t = test_profile_rules(rules);
  EXPECT_EQ(t["groups"][0]["rules"][0]["for"], "6s");
  EXPECT_FALSE(t["groups"][0]["rules"][1].contains("for"));
  EXPECT_EQ(t["groups"][0]["rules"][0]["expr"], "up == 0");
  rules["groups"][0]["rules"][0]["for"] = "soon";
  EXPECT_THROW(test_profile_rules(rules), std::runtime_error);
}

TEST(Conventions, ABrokenRuleIsNamed) {
  Json rules = parse_yaml(
      "groups:\n- name: g\n  rules:\n  - alert: Good\n    expr: up == 0\n    labels: {severity: warning}\n"
      "    annotations: {summary: s, description: d, runbook_url: 'docs/RUNBOOKS.md#good'}\n"
      "  - alert: Bad\n    expr: up == 0\n    labels: {severity: page}\n    annotations: {summary: s}\n");
  auto problems = convention_problems(rules);
  ASSERT_EQ(problems.size(), 4u) << ::testing::PrintToString(problems);
  for (const auto& p : problems) EXPECT_EQ(p.rfind("Bad:", 0), 0u) << p;
  EXPECT_EQ(alert_names(rules), (std::set<std::string>{"Good", "Bad"}));
}

TEST(Conventions, MissingTestCasesAreNamed) {
  Json tests = parse_yaml(
      "tests:\n- alert_rule_test:\n  - {alertname: A, exp_alerts: [{exp_labels: {severity: warning}}]}\n"
      "  - {alertname: A, exp_alerts: []}\n  - {alertname: B, exp_alerts: []}\n");
  auto missing = missing_test_cases({"A", "B", "C"}, {tests});
  EXPECT_EQ(missing, (std::vector<std::string>{"B: no case where it fires", "C: no case where it fires",
                                               "C: no case where it stays silent"}));
}

// The repository's rules: at least 25 alerts, each following the conventions, each with its runbook and
// with a firing and a not-firing promtool case (a new alert without tests fails here).
TEST(RepositoryRules, EveryAlertHasItsConventionsRunbookAndTests) {
  std::set<std::string> names;
  for (const auto& f : yml_files(kSource / "monitoring" / "rules")) {
    Json rules = parse_yaml(read_file(f));
    auto problems = convention_problems(rules);
    EXPECT_TRUE(problems.empty()) << f << ":\n" << ::testing::PrintToString(problems);
    auto file_names = alert_names(rules);
    names.insert(file_names.begin(), file_names.end());
    EXPECT_NO_THROW(test_profile_rules(rules)) << f;
  }
  EXPECT_GE(names.size(), 25u);

  const std::string runbooks = read_file(kSource / "docs" / "RUNBOOKS.md");
  for (const auto& n : names)
    EXPECT_NE(runbooks.find("\n## " + n + "\n"), std::string::npos)
        << n << " has no section in docs/RUNBOOKS.md";

  std::vector<Json> tests;
  for (const auto& f : yml_files(kSource / "monitoring" / "tests")) tests.push_back(parse_yaml(read_file(f)));
  auto missing = missing_test_cases(names, tests);
  EXPECT_TRUE(missing.empty()) << ::testing::PrintToString(missing);
}
