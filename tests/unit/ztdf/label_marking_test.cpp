// STANAG 4774 display markings (a table of cases, and every seed template) and security label validation.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "ztdf/error.hpp"
#include "ztdf/label.hpp"
#include "ztdf/marking.hpp"

using namespace dive;
using namespace dive::ztdf;

namespace {

SecurityLabel label(Classification c, std::vector<std::string> rel, std::vector<std::string> coi,
                    std::vector<std::string> caveats = {}) {
  SecurityLabel l;
  l.classification = c;
  l.releasability_to = std::move(rel);
  l.coi = std::move(coi);
  l.caveats = std::move(caveats);
  l.originating_country = "USA";
  l.creation_date = "2026-01-21T00:00:00.000Z";
  return l;
}

const std::vector<std::string> kFvey = {"USA", "GBR", "CAN", "AUS", "NZL"};

}  // namespace

TEST(Marking, TableOfCases) {
  using C = Classification;
  struct Case {
    SecurityLabel label;
    MarkingStyle style;
    const char* expected;
  };
  const Case cases[] = {
      // The form of the issue and of the system we replace.
      {label(C::kSecret, kFvey, {"FVEY"}), MarkingStyle::kNational,
       "SECRET//FVEY//REL USA, GBR, CAN, AUS, NZL"},
      // Caveats before COI; TOP_SECRET is written with a space.
      {label(C::kTopSecret, {"USA"}, {"US-ONLY"}, {"NOFORN"}), MarkingStyle::kNational,
       "TOP SECRET//NOFORN//US-ONLY//REL USA"},
      {label(C::kSecret, {"USA"}, {"US-ONLY"}, {"NOFORN"}), MarkingStyle::kNational,
       "SECRET//NOFORN//US-ONLY//REL USA"},
      // Caveats without COI, several caveats.
      {label(C::kSecret, {"USA"}, {}, {"NOFORN"}), MarkingStyle::kNational, "SECRET//NOFORN//REL USA"},
      {label(C::kTopSecret, {"USA", "GBR"}, {"FVEY"}, {"NOFORN", "ORCON"}), MarkingStyle::kNational,
       "TOP SECRET//NOFORN/ORCON//FVEY//REL USA, GBR"},
      // Several COIs: '/' between them (hyphens are part of COI names such as CAN-US).
      {label(C::kConfidential, {"USA", "CAN", "GBR"}, {"CAN-US", "GBR-US"}), MarkingStyle::kNational,
       "CONFIDENTIAL//CAN-US/GBR-US//REL USA, CAN, GBR"},
      {label(C::kRestricted, {"FRA", "DEU"}, {}), MarkingStyle::kNational, "RESTRICTED//REL FRA, DEU"},
      // UNCLASSIFIED forms.
      {label(C::kUnclassified, {"USA"}, {}), MarkingStyle::kNational, "UNCLASSIFIED//REL USA"},
      {label(C::kUnclassified, kFvey, {"FVEY"}), MarkingStyle::kNational,
       "UNCLASSIFIED//FVEY//REL USA, GBR, CAN, AUS, NZL"},
      {label(C::kUnclassified, {"USA", "HUN"}, {}), MarkingStyle::kNato, "NATO UNCLASSIFIED//REL USA, HUN"},
      // NATO classification names.
      {label(C::kRestricted, {"FRA"}, {"NATO"}), MarkingStyle::kNato, "NATO RESTRICTED//NATO//REL FRA"},
      {label(C::kConfidential, {"DEU"}, {"NATO"}), MarkingStyle::kNato, "NATO CONFIDENTIAL//NATO//REL DEU"},
      {label(C::kSecret, {"USA", "GBR", "FRA", "DEU"}, {"NATO"}), MarkingStyle::kNato,
       "NATO SECRET//NATO//REL USA, GBR, FRA, DEU"},
      {label(C::kTopSecret, {"USA", "GBR", "FRA", "DEU", "HUN"}, {"NATO-COSMIC"}), MarkingStyle::kNato,
       "COSMIC TOP SECRET//NATO-COSMIC//REL USA, GBR, FRA, DEU, HUN"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(display_marking(c.label, c.style), c.expected);
    SecurityLabel l = c.label;
    l.display_marking = c.expected;
    EXPECT_TRUE(marking_matches(l)) << c.expected;
    EXPECT_NO_THROW(validate_label(l)) << c.expected;
  }
}

TEST(Marking, ClassificationNames) {
  EXPECT_EQ(marking_name(Classification::kTopSecret), "TOP SECRET");
  EXPECT_EQ(marking_name(Classification::kTopSecret, MarkingStyle::kNato), "COSMIC TOP SECRET");
  EXPECT_EQ(marking_name(Classification::kUnclassified, MarkingStyle::kNato), "NATO UNCLASSIFIED");
  EXPECT_EQ(to_string(Classification::kTopSecret), "TOP_SECRET");
  EXPECT_EQ(parse_classification("TOP SECRET"), Classification::kTopSecret);
  EXPECT_EQ(parse_classification("TOP_SECRET"), Classification::kTopSecret);
  EXPECT_EQ(parse_classification("secret"), std::nullopt);
  EXPECT_EQ(parse_classification("NATO SECRET"), std::nullopt);
}

TEST(Marking, MismatchedMarkingsAreRefused) {
  SecurityLabel l = label(Classification::kSecret, kFvey, {"FVEY"});
  for (const char* wrong : {"SECRET//REL USA, GBR, CAN, AUS, NZL",            // COI missing
                            "SECRET//FVEY//REL USA, GBR, CAN, AUS",           // a country missing
                            "TOP SECRET//FVEY//REL USA, GBR, CAN, AUS, NZL",  // classification
                            "SECRET//FVEY//REL USA,GBR,CAN,AUS,NZL",          // separators
                            "secret//FVEY//REL USA, GBR, CAN, AUS, NZL", ""}) {
    l.display_marking = wrong;
    EXPECT_FALSE(marking_matches(l)) << wrong;
    EXPECT_THROW(validate_label(l), FormatError) << wrong;
  }
}

// Every COI template of data/seed.json, at every classification and in both styles, gives a valid label whose
// marking follows the grammar of docs/ZTDF.md.
TEST(Marking, EverySeedTemplateFollowsTheGrammar) {
  std::ifstream in(std::string(DIVE_DATA_DIR) + "/seed.json");
  ASSERT_TRUE(in) << "data/seed.json";
  std::stringstream ss;
  ss << in.rdbuf();
  const Json seed = Json::parse(ss.str());
  const auto& templates = seed.at("resources").at("coi_templates");
  ASSERT_EQ(templates.size(), 35u);
  const std::regex grammar(
      "(UNCLASSIFIED|RESTRICTED|CONFIDENTIAL|SECRET|TOP SECRET|NATO UNCLASSIFIED|NATO RESTRICTED|"
      "NATO CONFIDENTIAL|NATO SECRET|COSMIC TOP SECRET)"
      "(//[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*){0,2}"
      "//REL [A-Z]{3}(, [A-Z]{3})*");
  int checked = 0;
  for (const auto& t : templates) {
    for (int c = 0; c <= 4; ++c) {
      for (MarkingStyle style : {MarkingStyle::kNational, MarkingStyle::kNato}) {
        SecurityLabel l =
            label(static_cast<Classification>(c), t.at("releasabilityTo"), t.at("coi"), t.at("caveats"));
        l.coi_operator = t.at("operator") == "ANY" ? CoiOperator::kAny : CoiOperator::kAll;
        l.releasable_to_industry = t.at("releasableToIndustry");
        l.display_marking = display_marking(l, style);
        EXPECT_TRUE(std::regex_match(l.display_marking, grammar)) << l.display_marking;
        EXPECT_NO_THROW(validate_label(l)) << l.display_marking;
        // Caveats come first: NOFORN precedes the COI.
        if (!l.caveats.empty() && !l.coi.empty()) {
          EXPECT_LT(l.display_marking.find(l.caveats[0]), l.display_marking.find("//" + l.coi[0]));
        }
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 35 * 5 * 2);
}

TEST(Label, JsonRoundTripAndStrictReading) {
  SecurityLabel l = label(Classification::kTopSecret, {"USA"}, {"US-ONLY"}, {"NOFORN"});
  l.display_marking = display_marking(l);
  l.original_classification = "TOP SECRET";
  const Json j = label_to_json(l);
  EXPECT_EQ(j.at("classification"), "TOP_SECRET");
  EXPECT_EQ(j.at("displayMarking"), "TOP SECRET//NOFORN//US-ONLY//REL USA");
  EXPECT_EQ(label_from_json(j), l);

  auto expect_error = [&](const Json& bad, const std::string& path) {
    try {
      label_from_json(bad);
      ADD_FAILURE() << "accepted: " << bad.dump();
    } catch (const FormatError& e) {
      EXPECT_EQ(e.path(), path) << e.what();
    }
  };
  auto with = [&](const char* key, Json value) {
    Json b = j;
    b[key] = std::move(value);
    return b;
  };
  auto without = [&](const char* key) {
    Json b = j;
    b.erase(key);
    return b;
  };
  expect_error(with("classification", "TOP SECRET"), "/policy/securityLabel/classification");
  expect_error(with("classification", "COSMIC"), "/policy/securityLabel/classification");
  expect_error(with("classification", 4), "/policy/securityLabel/classification");
  expect_error(without("classification"), "/policy/securityLabel/classification");
  expect_error(with("releasabilityTo", Json::array()), "/policy/securityLabel/releasabilityTo");
  expect_error(with("releasabilityTo", {"USA", "usa"}), "/policy/securityLabel/releasabilityTo/1");
  expect_error(with("releasabilityTo", {"USA", "USA"}), "/policy/securityLabel/releasabilityTo/1");
  expect_error(with("releasabilityTo", {"USA", 7}), "/policy/securityLabel/releasabilityTo/1");
  expect_error(with("releasabilityTo", "USA"), "/policy/securityLabel/releasabilityTo");
  expect_error(with("COI", {"FVEY", "A/B"}), "/policy/securityLabel/COI/1");
  expect_error(with("COI", {""}), "/policy/securityLabel/COI/0");
  expect_error(with("caveats", {"NO FORN"}), "/policy/securityLabel/caveats/0");
  expect_error(with("coiOperator", "SOME"), "/policy/securityLabel/coiOperator");
  expect_error(with("originatingCountry", "US"), "/policy/securityLabel/originatingCountry");
  expect_error(with("creationDate", "yesterday"), "/policy/securityLabel/creationDate");
  expect_error(with("creationDate", "2026-13-01T00:00:00Z"), "/policy/securityLabel/creationDate");
  expect_error(with("releasableToIndustry", "false"), "/policy/securityLabel/releasableToIndustry");
  expect_error(with("displayMarking", ""), "/policy/securityLabel/displayMarking");
  expect_error(with("originalClassification", ""), "/policy/securityLabel/originalClassification");
  expect_error(with("natoEquivalent", "SECRET"), "/policy/securityLabel");  // unknown member
  expect_error(Json::array(), "/policy/securityLabel");
  // A marking that does not match is a validation finding, not a reading error.
  EXPECT_NO_THROW(label_from_json(with("displayMarking", "SECRET//REL USA")));
}

TEST(Label, Rfc3339) {
  for (const char* ok : {"2026-01-21T00:00:00Z", "2026-01-21T00:00:00.000Z", "2026-01-21T23:59:60.123456789Z",
                         "2026-01-21T10:00:00+01:00", "2026-01-21T10:00:00.5-05:30"})
    EXPECT_TRUE(is_rfc3339(ok)) << ok;
  for (const char* bad :
       {"", "2026-01-21", "2026-01-21 00:00:00Z", "2026-01-21T00:00:00", "2026-00-21T00:00:00Z",
        "2026-01-32T00:00:00Z", "2026-01-21T24:00:00Z", "2026-01-21T00:00:00.Z", "2026-01-21T00:00:00Zjunk",
        "2026-01-21T00:00:00+0100", "2026-01-21T00:00:00.0000000000Z"})
    EXPECT_FALSE(is_rfc3339(bad)) << bad;
}
