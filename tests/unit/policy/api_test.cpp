// The OPA Data API shapes: decision/allow/reason, the old package path, batch, policy_version and the
// 400 body; the text fast path is byte-identical to the Json one.
#include <gtest/gtest.h>

#include "policy/input_parser.hpp"
#include "policy/opa_api.hpp"
#include "policy_test_util.hpp"

using namespace dive;
using namespace dive::policy;
using namespace dive::policy::test;

namespace {

TEST(OpaApi, Paths) {
  EXPECT_EQ(query_for_path("/v1/data/dive/authz/decision"), Query::kDecision);
  EXPECT_EQ(query_for_path("/v1/data/dive/authz/allow"), Query::kAllow);
  EXPECT_EQ(query_for_path("/v1/data/dive/authz/reason"), Query::kReason);
  EXPECT_EQ(query_for_path("/v1/data/dive/authorization/decision"), Query::kDecision);
  EXPECT_EQ(query_for_path("/v1/data/dive/authorization/allow"), Query::kAllow);
  EXPECT_EQ(query_for_path("/v1/data/dive/authorization/reason"), Query::kReason);
  EXPECT_FALSE(query_for_path("/v1/data/dive/authz"));
  EXPECT_FALSE(query_for_path("/v1/data/dive/authz/decisionx"));
  EXPECT_FALSE(query_for_path("/v1/data/other/decision"));
  EXPECT_TRUE(is_batch_path("/v1/batch/data/dive/authz/decision"));
  EXPECT_TRUE(is_batch_path("/v1/batch/data/dive/authorization/decision"));
  EXPECT_FALSE(is_batch_path("/v1/batch/data/dive/authz/allow"));
}

TEST(OpaApi, DecisionAllowReason) {
  const Json body = {{"input", base_input()}};
  const Json d = handle_decision(body, sample_bundle());
  ASSERT_TRUE(d.contains("result"));
  const Json& r = d["result"];
  EXPECT_EQ(r["allow"], true);
  EXPECT_EQ(r["reason"], "Access granted - all conditions satisfied");
  EXPECT_EQ(r["obligations"], Json::array());
  for (const char* k : {"checks", "subject", "resource", "authentication", "tenant", "acp240_compliance"})
    EXPECT_TRUE(r["evaluation_details"].contains(k)) << k;
  EXPECT_EQ(r["evaluation_details"]["checks"].size(), 14u);
  EXPECT_EQ(r["evaluation_details"]["acp240_compliance"]["fail_closed_enforcement"], true);
  EXPECT_EQ(handle_allow(body, sample_bundle()), Json({{"result", true}}));
  EXPECT_EQ(handle_reason(body, sample_bundle()),
            Json({{"result", "Access granted - all conditions satisfied"}}));
  for (Query q : {Query::kDecision, Query::kAllow, Query::kReason})
    EXPECT_EQ(answer(q, body.dump(), sample_bundle()).body, handle_query(q, body, sample_bundle()).dump());
}

TEST(OpaApi, DetailsShapeMatchesTheOriginal) {
  Json in = base_input();
  in["context"]["acr"] = "1";
  in["context"]["amr"] = {"pwd", "otp"};
  const Json r = handle_decision({{"input", in}}, sample_bundle())["result"]["evaluation_details"];
  EXPECT_EQ(r["subject"],
            Json::parse(R"({"uniqueID":"testuser-usa-4","clearance":"SECRET","clearanceOriginal":"",
    "clearanceCountry":"","country":"USA","organizationType":"GOV","issuer":"","tenant":"UNKNOWN"})"));
  EXPECT_EQ(r["resource"],
            Json::parse(R"({"resourceId":"doc-1","classification":"SECRET","originalClassification":"",
    "originalCountry":"","encrypted":false,"ztdfEnabled":false,"releasableToIndustry":false})"));
  EXPECT_EQ(r["authentication"], Json::parse(R"({"acr":"1","amr":["pwd","otp"],"aal_level":"AAL2"})"));
  EXPECT_EQ(r["tenant"],
            Json::parse(R"({"current_tenant":"USA","subject_tenant":"UNKNOWN","can_federate":true})"));
  EXPECT_EQ(r["acp240_compliance"],
            Json::parse(R"({"ztdf_validation":false,"kas_obligations":false,"fail_closed_enforcement":true,
    "aal2_enforced":true,"classification_equivalency_enabled":true,"equivalency_applied":false,
    "equivalency_details":{}})"));
}

TEST(OpaApi, Batch) {
  Json denied = base_input();
  denied["subject"]["clearance"] = "UNCLASSIFIED";
  // An attribute of an unexpected type is evaluated as OPA does ("yes" counts as authenticated); only
  // an input that is not an object is rejected.
  Json odd = base_input();
  odd["subject"]["authenticated"] = "yes";
  odd["action"] = "read";
  const Json body = {{"inputs", {{"b", denied}, {"a", base_input()}, {"c", odd}, {"d", 5}}}};
  BatchStats stats;
  const Json out = handle_batch(body, sample_bundle(), &stats);
  const Json& r = out.at("responses");
  EXPECT_EQ(r["a"]["result"]["allow"], true);
  EXPECT_EQ(r["b"]["result"]["reason"],
            "Insufficient clearance: user has UNCLASSIFIED, resource requires SECRET");
  EXPECT_EQ(r["c"]["result"]["allow"], true);
  EXPECT_EQ(r["c"]["result"]["reason"], "Access granted - all conditions satisfied");
  EXPECT_EQ(r["d"], Json::parse(R"({"code":"invalid_parameter","message":"input must be an object"})"));
  EXPECT_EQ(stats.allowed, 2u);
  EXPECT_EQ(stats.denied, 1u);
  EXPECT_EQ(stats.rejected, 1u);
  EXPECT_TRUE(stats.partial());
  const BatchAnswer fast = answer_batch(body.dump(), sample_bundle());
  EXPECT_EQ(fast.body, out.dump());
  EXPECT_EQ(fast.stats.rejected, 1u);
}

TEST(OpaApi, BatchLimitsAndShape) {
  Json inputs = Json::object();
  for (size_t i = 0; i < kMaxBatchInputs; ++i) inputs["id-" + std::to_string(i)] = base_input();
  const Json ok = {{"inputs", inputs}};
  const BatchAnswer fast = answer_batch(ok.dump(), sample_bundle());
  EXPECT_EQ(fast.stats.allowed, kMaxBatchInputs);
  EXPECT_EQ(fast.body, handle_batch(ok, sample_bundle()).dump());
  inputs["one-too-many"] = base_input();
  const Json too_many = {{"inputs", inputs}};
  EXPECT_THROW((void)handle_batch(too_many, sample_bundle()), InvalidInput);
  EXPECT_THROW((void)answer_batch(too_many.dump(), sample_bundle()), InvalidInput);
  for (const char* body : {"{}", R"({"inputs":[]})", R"({"input":{}})", "[]", "{\"inputs\":{\"a\":"}) {
    EXPECT_THROW((void)answer_batch(body, sample_bundle()), InvalidInput) << body;
    EXPECT_THROW((void)handle_batch(parse_body(body), sample_bundle()), InvalidInput) << body;
  }
  EXPECT_EQ(answer_batch(R"({"inputs":{}})", sample_bundle()).body, R"({"responses":{}})");
}

TEST(OpaApi, PolicyVersionAndErrors) {
  EXPECT_EQ(policy_version(&sample_bundle()),
            Json({{"result", {{"version", "2.1.0"}, {"bundle", sample_bundle().revision}}}}));
  EXPECT_EQ(policy_version(nullptr)["result"]["bundle"], nullptr);
  EXPECT_EQ(error_body("input must be an object"),
            Json::parse(R"({"code":"invalid_parameter","message":"input must be an object"})"));
}

TEST(OpaApi, OutputEscapingMatchesNlohmann) {
  Json in = base_input();
  in["subject"]["uniqueID"] = "a\"b\\c\b\f\n\r\t\x01\x1f\x7f \xC3\xA9 \xE2\x9C\x93";
  in["resource"]["resourceId"] = "doc/<script>\u2028";
  in["resource"]["encrypted"] = true;
  in["resource"]["releasabilityTo"] = {"USA", "GB\nR"};
  const Json body = {{"input", in}};
  EXPECT_EQ(answer(Query::kDecision, body.dump(), sample_bundle()).body,
            handle_decision(body, sample_bundle()).dump());
}

}  // namespace
