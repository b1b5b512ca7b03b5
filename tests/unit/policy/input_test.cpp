// Bad input — malformed JSON, a body that is not an object or has no object "input", deep nesting,
// oversized bodies and arrays — is rejected with InvalidInput, by both readers, with the same message.
// Everything else is evaluated as OPA evaluates it: an attribute or a section of an unexpected type
// gets the original's decision (docs/POLICY.md, "Input handling"), byte for byte the same from both.
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
  EXPECT_EQ(rejection(R"({"input":"subject"})"), "input must be an object");
  EXPECT_EQ(rejection(R"({"input":5})"), "input must be an object");
}

// Both readers accept the body and give the same bytes; returns the decision.
Json decision_of(const std::string& body) {
  const Json dom = handle_decision(parse_body(body), sample_bundle());
  EXPECT_EQ(answer(Query::kDecision, body, sample_bundle()).body, dom.dump()) << body.substr(0, 300);
  return dom["result"];
}

std::string reason_of(const std::string& body) {
  return decision_of(body)["reason"].get<std::string>();
}

TEST(OpaSemantics, ActionGivenAsAString) {
  // Real clients send "action": "read". OPA evaluates it: input.action.operation is undefined, so the
  // upload rule does not apply and the decision is the one without an action.
  const Json d = decision_of(body_with("/action", "read"));
  EXPECT_EQ(d["allow"], true);
  EXPECT_EQ(d["reason"], "Access granted - all conditions satisfied");
  EXPECT_TRUE(answer(Query::kAllow, body_with("/action", "read"), sample_bundle()).allow);
  // Not an upload either when the section is the string "upload".
  Json in = base_input();
  in["action"] = "upload";
  in["resource"]["releasabilityTo"] = {"GBR"};
  EXPECT_EQ(reason_of(Json{{"input", in}}.dump()), R"(Country USA not in releasabilityTo: ["GBR"])");
  in["action"] = {{"operation", "upload"}};
  EXPECT_EQ(reason_of(Json{{"input", in}}.dump()),
            "Upload releasabilityTo must include uploader country: USA");
}

TEST(OpaSemantics, SectionsOfAnyTypeOrAbsent) {
  // A section that is not an object has no attributes (Rego: input.subject.x is undefined).
  for (const char* subject : {"", R"("subject":"alice",)", R"("subject":null,)", R"("subject":[],)",
                              R"("subject":5,)", R"("subject":false,)"}) {
    const std::string body =
        std::string(R"({"input":{)") + subject + R"("resource":{"classification":"SECRET"}}})";
    EXPECT_EQ(reason_of(body), "Subject is not authenticated") << body;
  }
  const Json subject = base_input()["subject"];
  for (const char* resource : {"", R"(,"resource":"doc-1")", R"(,"resource":null)", R"(,"resource":[1])"}) {
    const std::string body = R"({"input":{"subject":)" + subject.dump() + resource + "}}";
    EXPECT_EQ(reason_of(body), "Missing required attribute: resource.classification") << body;
  }
  EXPECT_EQ(reason_of(R"({"input":{}})"), "Subject is not authenticated");
  for (const Json& context : {Json("ctx"), Json(nullptr), Json::array(), Json(7), Json(true)})
    EXPECT_EQ(decision_of(body_with("/context", context))["allow"], true) << context;
  Json no_context = base_input();
  no_context.erase("context");
  EXPECT_EQ(decision_of(Json{{"input", no_context}}.dump())["allow"], true);
  // resource.ztdf that is present and not false but not an object has no policyHash.
  for (const Json& ztdf : {Json("yes"), Json(nullptr), Json::array(), Json(0), Json(true)}) {
    const Json d = decision_of(body_with("/resource/ztdf", ztdf));
    EXPECT_EQ(d["reason"], "ZTDF policy hash missing (STANAG 4778 binding required)") << ztdf;
    EXPECT_EQ(d["evaluation_details"]["resource"]["ztdfEnabled"], true) << ztdf;
  }
  EXPECT_EQ(decision_of(body_with("/resource/ztdf", false))["allow"], true);
}

TEST(OpaSemantics, WrongTypesGetTheOriginalsReason) {
  // A few of each kind; conformance.json has a case for every attribute the policy reads.
  struct Case {
    const char* pointer;
    Json value;
    const char* reason;
  };
  const char* allow = "Access granted - all conditions satisfied";
  const std::vector<Case> cases = {
      // `not x` is true only for undefined and false: a string "false", 0 and null count as present.
      {"/subject/authenticated", "false", allow},
      {"/subject/authenticated", 0, allow},
      {"/subject/authenticated", nullptr, allow},
      {"/subject/uniqueID", 42, allow},
      {"/subject/uniqueID", Json::object(), allow},
      // A clearance that is not a string is no level: insufficient, printed as sprintf prints it.
      {"/subject/clearance", 3, "Insufficient clearance: user has %!s(int=3), resource requires SECRET"},
      {"/subject/clearance", Json::array({"SECRET"}),
       R"(Insufficient clearance: user has ["SECRET"], resource requires SECRET)"},
      {"/subject/clearance", nullptr, "Insufficient clearance: user has null, resource requires SECRET"},
      {"/subject/countryOfAffiliation", 840,
       "Invalid country code: %!s(int=840) (must be ISO 3166-1 alpha-3)"},
      {"/subject/countryOfAffiliation", Json::object({{"code", "USA"}}),
       R"(Invalid country code: {"code": "USA"} (must be ISO 3166-1 alpha-3))"},
      {"/subject/organizationType", Json::array({"INDUSTRY"}), allow},
      {"/subject/issuer", 42, "Untrusted token issuer: %!s(int=42)"},
      {"/subject/issuer", nullptr, "Untrusted token issuer: null"},
      {"/subject/issuer", false, allow},
      {"/action/operation", 7, allow},
      {"/resource/classification", 3,
       "Insufficient clearance: user has SECRET, resource requires %!s(int=3)"},
      // count("USA") is 3 and a string has no entries: USA is not "in" it.
      {"/resource/releasabilityTo", "USA", "Country USA not in releasabilityTo: USA"},
      {"/resource/releasabilityTo", "", "Resource releasabilityTo is empty (deny all)"},
      // count() of a number or true is undefined: neither releasability rule fires (as in OPA).
      {"/resource/releasabilityTo", 840, allow},
      {"/resource/releasabilityTo", true, allow},
      {"/resource/releasabilityTo", Json::object({{"a", "USA"}}), allow},
      {"/resource/releasabilityTo", Json::array({"USA", 1, nullptr}),
       "Invalid country codes in releasabilityTo: {null, 1}"},
      {"/resource/COI", "US-ONLY", allow},
      {"/resource/COI", Json::array({"NATO", 7}),
       R"(COI operator=ALL: user COI ["NATO"] does not satisfy resource COI ["NATO", 7])"},
      {"/resource/coiOperator", "any", allow},
      {"/resource/caveats", "NOFORN", allow},
      {"/resource/encrypted", "true", allow},
      {"/context/currentTime", 1768953600,
       "Resource under embargo until 2026-01-21T00:00:00Z (available in 1768953600 seconds)"},
      {"/context/tenant", 840, allow},
      {"/context/strict_coi_coherence", "true", allow},
  };
  for (const auto& c : cases) {
    Json in = base_input();
    in["resource"]["creationDate"] = "2026-01-21T00:00:00Z";
    in[Json::json_pointer(c.pointer)] = c.value;
    EXPECT_EQ(reason_of(Json{{"input", in}}.dump()), c.reason) << c.pointer << " = " << c.value;
  }
}

TEST(OpaSemantics, EntriesOfAnyTypeCompareAsRegoValues) {
  // {c | some c in COI} - {c | some c in acpCOI}: entries compare as values (7 == 7.0, objects by
  // content), strings only with strings.
  Json in = base_input();
  in["resource"]["COI"] = Json::parse(R"(["NATO", 7, {"a": [1, "x"]}, null])");
  in["subject"]["acpCOI"] = Json::parse(R"([null, {"a": [1.0, "x"]}, 7.0, "NATO"])");
  EXPECT_EQ(decision_of(Json{{"input", in}}.dump())["allow"], true);
  in["subject"]["acpCOI"] = Json::parse(R"([null, {"a": [1, "y"]}, 7, "NATO"])");
  EXPECT_EQ(reason_of(Json{{"input", in}}.dump()),
            R"(COI operator=ALL: user COI [null, {"a": [1, "y"]}, 7, "NATO"] does not satisfy resource COI )"
            R"(["NATO", 7, {"a": [1, "x"]}, null])");
  in["resource"]["coiOperator"] = "ANY";
  in["resource"]["COI"] = Json::parse(R"([{"a": [1, "y"]}, "FVEY"])");
  EXPECT_EQ(decision_of(Json{{"input", in}}.dump())["allow"], true);
  in["subject"]["acpCOI"] = Json::parse(R"(["7", {"a": [1, "x"]}])");
  in["resource"]["COI"] = Json::parse(R"([7, {"a": [1, "y"]}])");
  EXPECT_EQ(
      reason_of(Json{{"input", in}}.dump()),
      R"(COI operator=ANY: user COI ["7", {"a": [1, "x"]}] does not intersect resource COI [7, {"a": [1, "y"]}])");
  // The country is compared as a value too: 840 is not the string "840".
  in = base_input();
  in["resource"]["releasabilityTo"] = Json::parse(R"(["USA", "840", {"k": "v"}, [], false, -2.5])");
  EXPECT_EQ(reason_of(Json{{"input", in}}.dump()),
            R"(Invalid country codes in releasabilityTo: {false, -2.5, "840", [], {"k": "v"}})");
}

TEST(OpaSemantics, WrongTypedValuesAreEchoedAsGiven) {
  Json in = base_input();
  in["subject"]["uniqueID"] = {{"b", {1, "x"}}, {"a", nullptr}};
  in["resource"]["classification"] = "SECRET";
  in["resource"]["encrypted"] = true;
  in["resource"]["resourceId"] = 42;
  in["resource"]["kasUrl"] = {{"url", "https://kas"}};
  in["context"]["acr"] = {"gold"};
  in["context"]["amr"] = {"pwd", 5};
  const Json d = decision_of(Json{{"input", in}}.dump());
  EXPECT_EQ(d["allow"], true);
  EXPECT_EQ(d["evaluation_details"]["subject"]["uniqueID"], in["subject"]["uniqueID"]);
  EXPECT_EQ(d["evaluation_details"]["authentication"]["acr"], Json::array({"gold"}));
  EXPECT_EQ(d["evaluation_details"]["authentication"]["amr"], in["context"]["amr"]);
  EXPECT_EQ(d["evaluation_details"]["authentication"]["aal_level"], "AAL3");
  ASSERT_EQ(d["obligations"].size(), 1u);
  EXPECT_EQ(d["obligations"][0]["resourceId"], 42);
  EXPECT_EQ(d["obligations"][0]["kaoId"], "kao-%!s(int=42)");
  EXPECT_EQ(d["obligations"][0]["kasEndpoint"], in["resource"]["kasUrl"]);
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
  // Arrays and objects the policy reads keep a limit of 1,000 entries (docs/POLICY.md says why).
  std::vector<std::string> many(kMaxArrayEntries + 1, "USA");
  EXPECT_EQ(rejection(body_with("/resource/releasabilityTo", many)),
            "input.resource.releasabilityTo has more than 1000 entries");
  EXPECT_EQ(rejection(body_with("/subject/acpCOI", many)), "input.subject.acpCOI has more than 1000 entries");
  Json mixed = many;
  mixed[0] = 1;
  EXPECT_EQ(rejection(body_with("/resource/COI", mixed)), "input.resource.COI has more than 1000 entries");
  Json object = Json::object();
  for (size_t i = 0; i <= kMaxArrayEntries; ++i) object["k" + std::to_string(i)] = "USA";
  EXPECT_EQ(rejection(body_with("/resource/caveats", object)),
            "input.resource.caveats has more than 1000 entries");
  many.pop_back();
  EXPECT_NO_THROW((void)parse_request_text(body_with("/resource/releasabilityTo", many)));
  object.erase("k0");
  EXPECT_EQ(decision_of(body_with("/resource/releasabilityTo", object))["allow"], true);
  // Strings have no limit of their own (OPA has none): a long one is evaluated like any other.
  const std::string long_string(100000, 'x');
  EXPECT_EQ(decision_of(body_with("/subject/uniqueID", long_string))["allow"], true);
  EXPECT_EQ(reason_of(body_with("/resource/classification", long_string)),
            "Insufficient clearance: user has SECRET, resource requires " + long_string);
  EXPECT_EQ(reason_of(body_with("/resource/COI", Json::array({long_string}))),
            R"(COI operator=ALL: user COI ["NATO"] does not satisfy resource COI [")" + long_string + "\"]");
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

TEST(OpaSemantics, TheOriginalsTruthinessIsKept) {
  // As in OPA: a string "false" for authenticated counts as authenticated (only false and absent do
  // not), and an operator other than "ALL"/"ANY" makes the COI rules skip the ALL/ANY test. Our PEP and
  // KAS never send these; docs/POLICY.md lists them.
  EXPECT_TRUE(answer(Query::kAllow, body_with("/subject/authenticated", "false"), sample_bundle()).allow);
  Json in = base_input();
  in["resource"]["COI"] = {"FVEY"};
  in["resource"]["coiOperator"] = "ANY";
  EXPECT_EQ(reason_of(Json{{"input", in}}.dump()),
            R"(COI operator=ANY: user COI ["NATO"] does not intersect resource COI ["FVEY"])");
  in["resource"]["coiOperator"] = "any";
  EXPECT_EQ(decision_of(Json{{"input", in}}.dump())["allow"], true);
  EXPECT_FALSE(answer(Query::kAllow, body_with("/subject/authenticated", false), sample_bundle()).allow);
}

TEST(BadInput, MessagesDoNotEchoInput) {
  const std::string secret = "s3cr3t-token-value";
  for (const std::string& body :
       {body_with("/subject/acpCOI", std::vector<std::string>(kMaxArrayEntries + 1, secret)),
        std::string(R"({"input":{"subject":")") + secret, R"({"input":")" + secret + "\"}",
        R"({")" + secret + R"(":{}})"}) {
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
