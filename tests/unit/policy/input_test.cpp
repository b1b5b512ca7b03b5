// Bad input: malformed JSON, wrong types, missing parts, huge arrays and strings, deep nesting and
// oversized bodies are each rejected with InvalidInput, by both readers, with the same message.
#include <gtest/gtest.h>

#include "policy/input_parser.hpp"
#include "policy/opa_api.hpp"
#include "policy_test_util.hpp"

using namespace dive;
using namespace dive::policy;
using namespace dive::policy::test;

namespace {

// Runs a request body through both readers; both must reject it with the same message, which is returned.
std::string rejection(const std::string& body) {
  std::string fast, dom;
  try {
    (void)parse_request_text(body);
    ADD_FAILURE() << "fast path accepted: " << body.substr(0, 200);
  } catch (const InvalidInput& e) {
    fast = e.what();
  }
  try {
    (void)request_input(parse_body(body));
    ADD_FAILURE() << "DOM path accepted: " << body.substr(0, 200);
  } catch (const InvalidInput& e) {
    dom = e.what();
  }
  // Syntax error positions are worded by each parser; everything else must match exactly.
  if (fast.rfind("malformed JSON", 0) != 0 || dom.rfind("malformed JSON", 0) != 0) {
    EXPECT_EQ(fast, dom) << body;
  }
  return fast;
}

std::string body_with(const char* pointer, const Json& value) {
  Json in = base_input();
  in[Json::json_pointer(pointer)] = value;
  return Json{{"input", in}}.dump();
}

TEST(BadInput, MalformedJson) {
  for (const char* body : {"", "{", "{\"input\":", "{\"input\":{}", "nope", "{\"input\":{}}x", "{'input':{}}",
                           "{\"input\":{\"subject\":{\"a\":01}}}", "{\"input\":[1,]}", "{\"input\":\"\\x\"}",
                           "{\"input\":\"\\ud800\"}", "{\"input\":\"a\nb\"}", "{\"input\":1e999}",
                           "\xEF\xBB{}", "{\"input\":\"\xC3\x28\"}", "{\"input\":\"\xED\xA0\x80\"}",
                           "{\"input\":-}", "{\"input\":tru}", "{\"input\":{\"subject\" {}}}"})
    EXPECT_EQ(rejection(body).rfind("malformed JSON", 0), 0u) << body;
  // nlohmann would stop reading at a NUL byte; a raw NUL is never valid JSON.
  EXPECT_EQ(rejection(std::string("{\"input\":{}}\0garbage", 21)).rfind("malformed JSON", 0), 0u);
  EXPECT_EQ(rejection(std::string("0\0", 2)).rfind("malformed JSON", 0), 0u);
  EXPECT_EQ(rejection(std::string(70, '[') + std::string("\0]", 2)), "malformed JSON at byte 70")
      << "the NUL check comes first in both readers (found by the fuzzer)";
}

TEST(BadInput, BodyShape) {
  EXPECT_EQ(rejection("[]"), "request body must be a JSON object");
  EXPECT_EQ(rejection("\"input\""), "request body must be a JSON object");
  EXPECT_EQ(rejection("{}"), "request body has no input");
  EXPECT_EQ(rejection(R"({"inputs":{}})"), "request body has no input");
  EXPECT_EQ(rejection(R"({"input":null})"), "input must be an object");
  EXPECT_EQ(rejection(R"({"input":[]})"), "input must be an object");
  EXPECT_EQ(rejection(R"({"input":{}})"), "input.subject is missing");
  EXPECT_EQ(rejection(R"({"input":{"subject":{}}})"), "input.resource is missing");
  EXPECT_EQ(rejection(R"({"input":{"subject":"alice","resource":{}}})"), "input.subject must be an object");
  EXPECT_EQ(rejection(R"({"input":{"subject":{},"resource":null}})"), "input.resource must be an object");
  EXPECT_EQ(rejection(R"({"input":{"subject":{},"resource":{},"context":[]}})"),
            "input.context must be an object");
  EXPECT_EQ(rejection(R"({"input":{"subject":{},"resource":{},"action":"read"}})"),
            "input.action must be an object");
  EXPECT_EQ(rejection(R"({"input":{"subject":{},"resource":{"ztdf":true}}})"),
            "input.resource.ztdf must be an object");
}

TEST(BadInput, WrongTypesNameTheAttribute) {
  struct Case {
    const char* pointer;
    Json value;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"/subject/authenticated", "false", "input.subject.authenticated must be a boolean"},
      {"/subject/authenticated", nullptr, "input.subject.authenticated must be a boolean"},
      {"/subject/authenticated", 1, "input.subject.authenticated must be a boolean"},
      {"/subject/uniqueID", 42, "input.subject.uniqueID must be a string"},
      {"/subject/uniqueID", true, "input.subject.uniqueID must be a string"},
      {"/subject/clearance", Json::array({"SECRET"}), "input.subject.clearance must be a string"},
      {"/subject/countryOfAffiliation", Json::object(),
       "input.subject.countryOfAffiliation must be a string"},
      {"/subject/acpCOI", "NATO", "input.subject.acpCOI must be an array of strings"},
      {"/subject/acpCOI", Json::array({"NATO", 1}), "input.subject.acpCOI must be an array of strings"},
      {"/subject/acpCOI", nullptr, "input.subject.acpCOI must be an array of strings"},
      {"/subject/clearanceOriginal", 3, "input.subject.clearanceOriginal must be a string or null"},
      {"/subject/clearanceCountry", false, "input.subject.clearanceCountry must be a string or null"},
      {"/subject/organizationType", nullptr, "input.subject.organizationType must be a string"},
      {"/subject/issuer", Json::object(), "input.subject.issuer must be a string"},
      {"/action/operation", 7, "input.action.operation must be a string"},
      {"/resource/resourceId", 7, "input.resource.resourceId must be a string"},
      {"/resource/classification", 3, "input.resource.classification must be a string"},
      {"/resource/releasabilityTo", "USA", "input.resource.releasabilityTo must be an array of strings"},
      {"/resource/releasabilityTo", Json::array({Json::array({"USA"})}),
       "input.resource.releasabilityTo must be an array of strings"},
      {"/resource/COI", Json::object(), "input.resource.COI must be an array of strings"},
      {"/resource/coiOperator", "all", "input.resource.coiOperator must be \"ALL\" or \"ANY\""},
      {"/resource/coiOperator", nullptr, "input.resource.coiOperator must be \"ALL\" or \"ANY\""},
      {"/resource/caveats", "NOFORN", "input.resource.caveats must be an array of strings"},
      {"/resource/creationDate", 1768953600, "input.resource.creationDate must be a string"},
      {"/resource/encrypted", "true", "input.resource.encrypted must be a boolean"},
      {"/resource/kasUrl", nullptr, "input.resource.kasUrl must be a string"},
      {"/resource/releasableToIndustry", "yes", "input.resource.releasableToIndustry must be a boolean"},
      {"/resource/originalClassification", 1,
       "input.resource.originalClassification must be a string or null"},
      {"/resource/originalCountry", Json::array(), "input.resource.originalCountry must be a string or null"},
      {"/resource/ztdf/integrityValidated", "true",
       "input.resource.ztdf.integrityValidated must be a boolean"},
      {"/resource/ztdf/policyHash", nullptr, "input.resource.ztdf.policyHash must be a string"},
      {"/resource/ztdf/payloadHash", 5, "input.resource.ztdf.payloadHash must be a string"},
      {"/context/currentTime", 1768953600, "input.context.currentTime must be a string"},
      {"/context/acr", Json::array({"1"}), "input.context.acr must be a string or a number"},
      {"/context/acr", true, "input.context.acr must be a string or a number"},
      {"/context/amr", Json::object(), "input.context.amr must be an array of strings or a string"},
      {"/context/amr", Json::array({"pwd", nullptr}),
       "input.context.amr must be an array of strings or a string"},
      {"/context/tenant", 1, "input.context.tenant must be a string"},
      {"/context/strict_coi_coherence", "true", "input.context.strict_coi_coherence must be a boolean"},
  };
  for (const auto& c : cases) EXPECT_EQ(rejection(body_with(c.pointer, c.value)), c.message) << c.pointer;
}

TEST(BadInput, DocumentedFalseAndNullAreAccepted) {
  // The original documents these: false = missing required attribute, null releasabilityTo, null
  // equivalency attributes. They are decisions (deny or allow), not 400s.
  for (const auto& [pointer, value] :
       std::vector<std::pair<const char*, Json>>{{"/subject/uniqueID", false},
                                                 {"/subject/clearance", false},
                                                 {"/subject/countryOfAffiliation", false},
                                                 {"/resource/classification", false},
                                                 {"/resource/releasabilityTo", false},
                                                 {"/resource/releasabilityTo", nullptr},
                                                 {"/subject/clearanceOriginal", nullptr},
                                                 {"/resource/originalCountry", nullptr},
                                                 {"/context/acr", 1},
                                                 {"/context/amr", "[\"pwd\"]"}}) {
    Json body = Json::parse(body_with(pointer, value));
    EXPECT_NO_THROW((void)parse_request_text(body.dump())) << pointer;
    EXPECT_NO_THROW((void)request_input(body)) << pointer;
  }
}

TEST(BadInput, UnreadAttributesAreIgnored) {
  Json in = base_input();
  in["subject"]["dutyOrg"] = {{"nested", {1, 2, 3}}};
  in["subject"]["roles"] = 5;
  in["context"]["sourceIP"] = nullptr;
  in["context"]["auth_time"] = 1768953600;
  in["resource"]["natoEquivalent"] = Json::array();
  in["resource"]["ztdf"] = {{"policyHash", "p"},
                            {"payloadHash", "h"},
                            {"integrityValidated", true},
                            {"manifest", {{"objectId", 1}}}};
  in["extra"] = {{"anything", true}};
  const Json body = {{"input", in}, {"unrelated", "x"}};
  EXPECT_TRUE(decide(in)["allow"].get<bool>());
  EXPECT_TRUE(answer(Query::kAllow, body.dump(), sample_bundle()).allow);
}

TEST(BadInput, HugeArraysAndStrings) {
  std::vector<std::string> many(kMaxArrayEntries + 1, "USA");
  EXPECT_EQ(rejection(body_with("/resource/releasabilityTo", many)),
            "input.resource.releasabilityTo has more than 1000 entries");
  EXPECT_EQ(rejection(body_with("/subject/acpCOI", many)), "input.subject.acpCOI has more than 1000 entries");
  many.pop_back();
  EXPECT_NO_THROW((void)parse_request_text(body_with("/resource/releasabilityTo", many)));
  const std::string long_string(kMaxStringBytes + 1, 'x');
  EXPECT_EQ(rejection(body_with("/subject/uniqueID", long_string)),
            "input.subject.uniqueID is longer than 8192 bytes");
  EXPECT_EQ(rejection(body_with("/resource/COI", Json::array({long_string}))),
            "input.resource.COI is longer than 8192 bytes");
  // Large arrays of attributes the policy does not read are fine (bounded by the body size).
  Json in = base_input();
  in["resource"]["keyAccessObjects"] = std::vector<int>(20000, 1);
  EXPECT_NO_THROW((void)parse_request_text(Json{{"input", in}}.dump()));
}

TEST(BadInput, OversizedBody) {
  Json in = base_input();
  in["resource"]["padding"] = std::string(kMaxBodyBytes, 'x');
  const std::string body = Json{{"input", in}}.dump();
  EXPECT_EQ(rejection(body), "request body is larger than 1 MiB");
}

TEST(BadInput, DeepNesting) {
  auto nested = [](int depth) {
    std::string v(depth, '[');
    v += std::string(depth, ']');
    return v;
  };
  // The body object and input are two levels; an ignored attribute may nest up to the limit.
  const std::string ok = R"({"input":{"subject":{},"resource":{},"x":)" + nested(kMaxDepth - 2) + "}}";
  EXPECT_NO_THROW((void)parse_request_text(ok));
  EXPECT_NO_THROW((void)request_input(parse_body(ok)));
  const std::string deep = R"({"input":{"subject":{},"resource":{},"x":)" + nested(kMaxDepth - 1) + "}}";
  EXPECT_EQ(rejection(deep), "JSON nests deeper than 64 levels");
  const std::string very_deep = R"({"input":)" + nested(100000) + "}";
  EXPECT_EQ(rejection(very_deep), "JSON nests deeper than 64 levels");
  // Deep nesting inside an attribute the policy reads.
  EXPECT_EQ(rejection(R"({"input":{"subject":{"acpCOI":)" + nested(70) + R"(},"resource":{}}})"),
            "JSON nests deeper than 64 levels");
}

TEST(BadInput, RepeatedKeysKeepTheLast) {
  const std::string body =
      R"({"input":{"subject":{"clearance":5,"clearance":"SECRET"},"subject":{"authenticated":true,"uniqueID":"u",
          "clearance":"TOP_SECRET","countryOfAffiliation":"USA","countryOfAffiliation":"USA"},
          "resource":{"classification":"SECRET","releasabilityTo":["FRA"],"releasabilityTo":["USA"]}},
          "input":{"subject":{"authenticated":true,"uniqueID":"u","clearance":"SECRET","countryOfAffiliation":"USA"},
          "resource":{"classification":"SECRET","releasabilityTo":["USA"],"releasabilityTo":["GBR"]}}})";
  const Input fast = parse_request_text(body);
  EXPECT_EQ(fast[F::kClearance].str, "SECRET");
  EXPECT_EQ(fast[F::kReleasabilityTo].list, std::vector<std::string>{"GBR"});
  const Json dom = handle_decision(parse_body(body), sample_bundle());
  EXPECT_EQ(answer(Query::kDecision, body, sample_bundle()).body, dom.dump());
  EXPECT_EQ(dom["result"]["reason"], R"(Country USA not in releasabilityTo: ["GBR"])");
  // A wrong type that a later duplicate replaces is not an error (as with the DOM reader).
  EXPECT_NO_THROW((void)parse_request_text(
      R"({"input":{"subject":{"acpCOI":7,"acpCOI":[]},"resource":{"ztdf":1,"ztdf":{}}}})"));
}

TEST(BadInput, NeverTreatedAsAllow) {
  // A string "false" for authenticated counted as authenticated in the original; here it is a 400.
  EXPECT_THROW((void)answer(Query::kAllow, body_with("/subject/authenticated", "false"), sample_bundle()),
               InvalidInput);
  // An operator the original did not know made it skip the COI check; here it is a 400.
  EXPECT_THROW((void)answer(Query::kAllow, body_with("/resource/coiOperator", "any"), sample_bundle()),
               InvalidInput);
}

TEST(BadInput, MessagesDoNotEchoInput) {
  const std::string secret = "s3cr3t-token-value";
  for (const std::string& body :
       {body_with("/subject/uniqueID", Json::array({secret})),
        std::string(R"({"input":{"subject":")") + secret, body_with("/resource/coiOperator", secret)}) {
    try {
      (void)parse_request_text(body);
      FAIL();
    } catch (const InvalidInput& e) {
      EXPECT_EQ(std::string(e.what()).find(secret), std::string::npos) << e.what();
    }
  }
}

TEST(InputReaders, NumbersAndEscapesAgree) {
  for (const char* acr : {"0", "1", "-1", "2.0", "1.5", "1e6", "-0", "18446744073709551615",
                          "18446744073709551616", "-9223372036854775809", "1E-7", "\"\\u0031\"",
                          "\"\\ud83d\\ude00\"", "\"a\\/b\\\\c\\\"\"", "\"\\u00e9t\\u00E9\""}) {
    const std::string body =
        std::string(R"({"input":{"subject":{},"resource":{"classification":"SECRET"},)") +
        R"("context":{"acr":)" + acr + R"(,"amr":["pwd"]}}})";
    const Json dom = handle_decision(parse_body(body), sample_bundle());
    EXPECT_EQ(answer(Query::kDecision, body, sample_bundle()).body, dom.dump()) << acr;
  }
}

TEST(InputReaders, ByteOrderMarkIsSkippedLikeNlohmann) {
  const std::string body = "\xEF\xBB\xBF" + Json{{"input", base_input()}}.dump();
  EXPECT_TRUE(answer(Query::kAllow, body, sample_bundle()).allow);
  EXPECT_TRUE(handle_allow(parse_body(body), sample_bundle())["result"].get<bool>());
}

}  // namespace
