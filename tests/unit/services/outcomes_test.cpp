// The HTTP form of the access layer's outcomes at the service edges (api document routes, kas
// /request-key): the statuses and error bodies the wire has always had, and the audit outcome of each.
#include "services/runtime/outcomes.hpp"

#include <gtest/gtest.h>

using namespace dive;
using namespace dive::access;
using namespace dive::services;

TEST(Outcomes, EachOutcomeHasItsStatus) {
  Decision d;
  EXPECT_EQ(http_status(Outcome()), 200);
  EXPECT_EQ(http_status(Outcome::invalid_input("x")), 400);
  EXPECT_EQ(http_status(Outcome::refused(true, "x", std::nullopt, std::nullopt)), 401);
  EXPECT_EQ(http_status(Outcome::denied(d)), 403);
  EXPECT_EQ(http_status(Outcome::refused(false, "x", std::nullopt, std::nullopt)), 403);
  EXPECT_EQ(http_status(Outcome::integrity("x")), 403);
  EXPECT_EQ(http_status(Outcome::not_found("x")), 404);
  EXPECT_EQ(http_status(Outcome::unavailable(Dependency::kPdp)), 503);
  EXPECT_EQ(http_status(Outcome::unavailable(Dependency::kDatabase)), 503);
  EXPECT_EQ(http_status(Outcome::unavailable(Dependency::kKas)), 503);
}

TEST(Outcomes, ErrorBodiesAreErrorMessageAndTheDecisionWhenThereIsOne) {
  EXPECT_EQ(error_body(Outcome::invalid_input("limit must be a whole number")),
            (Json{{"error", "Bad Request"}, {"message", "limit must be a whole number"}}));
  EXPECT_EQ(error_body(Outcome::not_found("no resource doc-1")),
            (Json{{"error", "Not Found"}, {"message", "no resource doc-1"}}));
  EXPECT_EQ(error_body(Outcome::unavailable(Dependency::kPdp)),
            (Json{{"error", "Service Unavailable"},
                  {"message", "the policy decision point is unavailable; no access can be decided now"}}));
  EXPECT_EQ(
      error_body(Outcome::integrity("the stored object of doc-1 is not a valid ZTDF object")),
      (Json{{"error", "Forbidden"}, {"message", "the stored object of doc-1 is not a valid ZTDF object"}}));
  Decision d;
  d.reason = "Insufficient clearance";
  d.evaluation_details = Json{{"checks", {{"clearance_sufficient", false}}}};
  EXPECT_EQ(error_body(Outcome::denied(d)), (Json{{"error", "Forbidden"},
                                                  {"message", "Access denied by policy"},
                                                  {"reason", "Insufficient clearance"},
                                                  {"evaluation_details", d.evaluation_details}}));
  EXPECT_EQ(error_body(Outcome::refused(true, "token revoked", std::nullopt, std::nullopt)),
            (Json{{"error", "Unauthorized"}, {"message", "token revoked"}}));
}

TEST(Outcomes, AnErrorResponseCarriesTheRequestId) {
  net::Response r = error_response(Outcome::not_found("no resource doc-1"), "req-7");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Json::parse(r.body),
            (Json{{"error", "Not Found"}, {"message", "no resource doc-1"}, {"requestId", "req-7"}}));
}

TEST(Outcomes, TheAuditOutcomeIsAllowDenyOrFailure) {
  Decision d;
  EXPECT_STREQ(audit_outcome(Outcome()), "allow");
  EXPECT_STREQ(audit_outcome(Outcome::denied(d)), "deny");
  EXPECT_STREQ(audit_outcome(Outcome::integrity("x")), "deny");
  EXPECT_STREQ(audit_outcome(Outcome::invalid_input("x")), "failure");
  EXPECT_STREQ(audit_outcome(Outcome::not_found("x")), "failure");
  EXPECT_STREQ(audit_outcome(Outcome::unavailable(Dependency::kDatabase)), "failure");
  EXPECT_STREQ(audit_outcome(Outcome::refused(true, "x", std::nullopt, std::nullopt)), "failure");
}
