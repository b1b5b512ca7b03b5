// The read response is written as text instead of built as a Json tree; these hold the text equal to
// what the tree would dump, for every shape (empty and full arrays, escapes, allow and deny).
#include <gtest/gtest.h>

#include "access/decision.hpp"
#include "documents/resource_store.hpp"

using namespace dive;

namespace {

Json decision_tree(const access::Decision& d, bool cached) {
  return Json{{"allow", d.allow},
              {"reason", d.reason},
              {"obligations", d.obligations},
              {"evaluation_details", d.evaluation_details},
              {"cached", cached}};
}

// The list JSON of a row, as a tree: what the text must equal.
Json summary_tree(const documents::StoredResource& r) {
  return Json{{"resourceId", r.resource_id},
              {"title", r.title},
              {"classification", ztdf::to_string(r.label.classification)},
              {"releasabilityTo", r.label.releasability_to},
              {"COI", r.label.coi},
              {"coiOperator", ztdf::to_string(r.label.coi_operator)},
              {"caveats", r.label.caveats},
              {"releasableToIndustry", r.label.releasable_to_industry},
              {"originatingCountry", r.label.originating_country},
              {"displayMarking", r.label.display_marking},
              {"createdAt", r.created_at},
              {"encrypted", true}};
}

std::string decision_text(const access::Decision& d, bool cached) {
  std::string out;
  access::append_decision_json(out, d, cached);
  return out;
}

std::string summary_text(const documents::StoredResource& r) {
  std::string out = "prefix";  // appends, never replaces
  documents::append_resource_summary(out, r);
  return out.substr(6);
}

}  // namespace

TEST(ResponseText, DecisionTextEqualsTheDumpedTree) {
  access::Decision allow;
  allow.allow = true;
  allow.reason = "Access granted";
  allow.evaluation_details = Json{{"checks", {{"clearance_sufficient", true}, {"coi", nullptr}}}, {"n", 1.5}};
  allow.obligations = Json::array({Json{{"type", "kas"}, {"resourceId", "doc-1"}}});
  access::Decision deny;
  deny.reason = "Insufficient clearance: \"SECRET\" < TOP_SECRET\n\t\\ \x01 é";
  for (bool cached : {true, false}) {
    EXPECT_EQ(decision_text(allow, cached), decision_tree(allow, cached).dump());
    EXPECT_EQ(decision_text(deny, cached), decision_tree(deny, cached).dump());
  }
}

TEST(ResponseText, ASharedDecisionIsRenderedOnceAndWritesTheSameText) {
  access::Decision d;
  d.allow = true;
  d.reason = "Access granted";
  d.evaluation_details = Json{{"checks", {{"clearance_sufficient", true}}}, {"z", "\"q\""}};
  d.obligations = Json::array({Json{{"type", "kas"}}});
  auto shared = access::share(d);
  EXPECT_EQ(shared->evaluation_details_text, d.evaluation_details.dump());
  EXPECT_EQ(shared->obligations_text, d.obligations.dump());
  for (bool cached : {true, false})
    EXPECT_EQ(decision_text(*shared, cached), decision_tree(d, cached).dump());
  // The text written is the rendered one (the trees are not dumped again).
  access::Decision marked = *shared;
  marked.evaluation_details_text = "{\"rendered\":true}";
  EXPECT_NE(decision_text(marked, true).find("{\"rendered\":true}"), std::string::npos);
}

TEST(ResponseText, ResourceSummaryTextEqualsTheDumpedTree) {
  documents::StoredResource r;
  r.resource_id = "doc-usa-0001";
  r.title = "Ops \"plan\" \\ north\n";
  r.label.classification = ztdf::Classification::kSecret;
  r.label.releasability_to = {"USA", "GBR"};
  r.label.coi = {"FVEY"};
  r.label.coi_operator = ztdf::CoiOperator::kAny;
  r.label.caveats = {};
  r.label.releasable_to_industry = true;
  r.label.originating_country = "USA";
  r.label.display_marking = "SECRET//FVEY//REL USA, GBR";
  r.created_at = "2026-11-27T09:00:00.000Z";
  EXPECT_EQ(summary_text(r), summary_tree(r).dump());
  r.label.caveats = {"NOFORN", "ORCON"};
  r.label.coi = {};
  r.label.releasability_to = {};
  r.label.releasable_to_industry = false;
  r.label.coi_operator = ztdf::CoiOperator::kAll;
  r.label.classification = ztdf::Classification::kUnclassified;
  EXPECT_EQ(summary_text(r), summary_tree(r).dump());
}
