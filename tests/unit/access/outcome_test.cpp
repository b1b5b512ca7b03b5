// The access layer's outcome: expected failures as values, each with what its caller needs to answer.
#include "access/outcome.hpp"

#include <gtest/gtest.h>

using namespace dive;
using namespace dive::access;

TEST(Outcome, ADefaultOutcomeIsOk) {
  Outcome o;
  EXPECT_TRUE(o.ok());
  EXPECT_EQ(o.code(), Outcome::Code::kOk);
  EXPECT_EQ(o.to_string(), "ok");
  EXPECT_FALSE(o.dependency());
  EXPECT_FALSE(o.reason());
}

TEST(Outcome, ADenialCarriesTheDecisionsReasonAndEvaluationDetails) {
  Decision d;
  d.reason = "Insufficient clearance";
  d.evaluation_details = Json{{"checks", {{"clearance_sufficient", false}}}};
  Outcome o = Outcome::denied(d);
  EXPECT_TRUE(o.is_denied());
  EXPECT_FALSE(o.ok());
  EXPECT_EQ(o.message(), "Access denied by policy");
  EXPECT_EQ(*o.reason(), "Insufficient clearance");
  EXPECT_EQ(*o.evaluation_details(), d.evaluation_details);
  EXPECT_EQ(o.to_string(), "denied: Access denied by policy");
  EXPECT_EQ(Outcome::denied(d, "Key release denied by policy").message(), "Key release denied by policy");
}

TEST(Outcome, UnavailableNamesTheDependencyAndSaysNothingCanBeDecided) {
  Outcome pdp = Outcome::unavailable(Dependency::kPdp);
  EXPECT_TRUE(pdp.is_unavailable());
  EXPECT_EQ(pdp.dependency(), Dependency::kPdp);
  EXPECT_EQ(pdp.message(), "the policy decision point is unavailable; no access can be decided now");
  EXPECT_EQ(Outcome::unavailable(Dependency::kDatabase).message(),
            "the database is unavailable; no access can be decided now");
  EXPECT_EQ(Outcome::unavailable(Dependency::kKas).message(),
            "the key access service is unavailable; no access can be decided now");
  Outcome own = Outcome::unavailable(Dependency::kDatabase, "not confirmed");
  EXPECT_EQ(own.message(), "not confirmed");
  EXPECT_EQ(own.dependency(), Dependency::kDatabase);
  EXPECT_FALSE(Outcome::not_found("x").dependency()) << "only an unavailable outcome has one";
}

TEST(Outcome, ARefusalKeepsWhatTheKasSaidAsItSaidIt) {
  Outcome o = Outcome::refused(false, "no", Json(42), std::nullopt);
  EXPECT_TRUE(o.is_denied());
  EXPECT_EQ(*o.reason(), 42);
  EXPECT_FALSE(o.evaluation_details());
  EXPECT_EQ(Outcome::refused(true, "who?", std::nullopt, std::nullopt).code(),
            Outcome::Code::kUnauthenticated);
}

TEST(Outcome, EachFailureHasItsCode) {
  EXPECT_TRUE(Outcome::invalid_input("bad").is_invalid_input());
  EXPECT_TRUE(Outcome::not_found("gone").is_not_found());
  EXPECT_EQ(Outcome::integrity("changed").code(), Outcome::Code::kIntegrity);
  EXPECT_EQ(Outcome::invalid_input("limit must be a whole number").to_string(),
            "invalid input: limit must be a whole number");
}
