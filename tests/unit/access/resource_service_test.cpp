// The api's document logic over fakes (no deployed hub): the list's cursor, pre-filter and batch
// decisions, the read path failing closed, the upload's input checks, the key route's KAS answers — each as
// a typed outcome (the HTTP form is the service edge's, tests/unit/services/outcomes_test.cpp).
#include "access/resource_service.hpp"

#include <gtest/gtest.h>

#include <set>

#include "common/encoding.hpp"
#include "fake_pdp.hpp"
#include "fake_resource_store.hpp"
#include "ztdf/encrypt.hpp"
#include "ztdf/marking.hpp"
#include "ztdf/serialize.hpp"

using namespace dive;
using namespace dive::access;
using dive::access::testing::FakeAuthorizer;
using dive::access::testing::FakePdp;
using dive::access::testing::FakeResourceStore;

namespace {

const ztdf::PrivateKey& service_kas_key() {
  static ztdf::PrivateKey k = ztdf::PrivateKey::generate_rsa(2048);
  return k;
}

const std::string kKasUrl = "https://kas.test";

// A kas behind the HttpTransport interface: releases the data key it unwraps with service_kas_key(), refuses
// with `status` and `refusal`, or does not answer.
class FakeKas : public net::HttpTransport {
 public:
  bool down = false;
  int status = 200;
  Json refusal;
  std::vector<std::string> urls;

  net::ClientResponse send(const net::ClientRequest& req) override {
    urls.push_back(req.url);
    if (down) throw net::TransportError(net::TransportError::Kind::Connect, "connection refused");
    net::ClientResponse r;
    r.status = status;
    if (status != 200) {
      r.body = refusal.dump();
      return r;
    }
    Json b = Json::parse(req.body);
    ztdf::Policy policy = ztdf::policy_from_json(b["policy"], "/policy");
    ztdf::KeyAccessObject kao = ztdf::kao_from_json(b["kao"], "/kao");
    ztdf::DataKey key = ztdf::open_key_access(policy, kao, service_kas_key());
    r.body = Json{{"resourceId", policy.object_id},
                  {"kid", kao.kid},
                  {"obligations", Json::array()},
                  {"dataKey", base64_encode(key.bytes())}}
                 .dump();
    return r;
  }
};

std::string document(const std::string& id, ztdf::Classification c,
                     std::vector<std::string> rel = {"USA", "GBR"}, std::vector<std::string> coi = {}) {
  ztdf::SecurityLabel l;
  l.classification = c;
  l.releasability_to = std::move(rel);
  l.coi = std::move(coi);
  l.originating_country = "USA";
  l.creation_date = "2026-01-01T00:00:00Z";
  l.display_marking = ztdf::display_marking(l);
  ztdf::ObjectInfo info;
  info.object_id = id;
  return ztdf::serialize(
      ztdf::encrypt("the text of " + id, l, {{kKasUrl, "kas-1", service_kas_key().public_key()}}, info));
}

struct ServiceRig {
  FakeAuthorizer decider{FakeAuthorizer::Cache::kTtl};
  FakePdp& pdp = decider.pdp;
  FakeResourceStore store;
  FakeKas kas;
  resilience::CircuitBreaker kas_breaker{"kas", resilience::BreakerConfig{}, decider.clock};
  ResourceService service{ResourceServiceDeps{store, decider.authorizer, kas, kas_breaker, kKasUrl, "USA"}};
  identity::VerifiedToken token;
  std::set<std::string> denied;  // the documents the pdp denies

  // Every cached decision expires (the longest TTL is 300 s): the next question goes to the pdp.
  void forget_decisions() { decider.clock.advance(std::chrono::seconds(301)); }

  ServiceRig() {
    token.issuer = "https://idp.test/realms/dive-v3-broker-usa";
    token.subject = "u-1";
    token.claims =
        Json{{"uniqueID", "testuser-usa-3"}, {"clearance", "SECRET"}, {"countryOfAffiliation", "USA"}};
    token.acr = "1";
    token.amr = {"pwd", "otp"};
    pdp.rule = [this](const Json& in) {
      const std::string id = in["resource"].value("resourceId", "");
      if (denied.count(id)) return std::pair<bool, std::string>{false, "Insufficient clearance"};
      return std::pair<bool, std::string>{true, "Access granted - all conditions satisfied"};
    };
  }
  // Documents doc-USA-1 .. doc-USA-n (newest last), SECRET, releasable to USA and GBR.
  void seed(int n) {
    for (int i = 1; i <= n; ++i) {
      std::string id = "doc-USA-" + std::to_string(i);
      store.add(document(id, ztdf::Classification::kSecret), "Report " + std::to_string(i));
    }
  }
  Result list(std::map<std::string, std::string> q = {}) { return service.list(token, q, "req-1"); }
  Result read(const std::string& id) { return service.read(token, id, "req-1"); }
  Result upload(const Json& body) { return service.upload(token, body.dump(), "req-1"); }
  Result key(const std::string& id, std::string body = "") {
    return service.key(token, id, body, "tok", "req-1");
  }
};

// The listed ids of a page, in order.
std::vector<std::string> ids(const Json& page) {
  std::vector<std::string> out;
  for (const auto& r : page["resources"]) out.push_back(r["resourceId"].get<std::string>());
  return out;
}

Json page_of(const Result& r) {
  EXPECT_TRUE(r.outcome.ok()) << r.outcome.to_string();
  return Json::parse(r.text);
}

Json upload_body() {
  return Json{{"title", "A new report"},
              {"content", base64_encode("hello")},
              {"classification", "SECRET"},
              {"releasabilityTo", {"USA", "GBR"}}};
}

}  // namespace

// ---- list ----

TEST(ResourceServiceList, PagesNewestFirstWithACursorUntilTheLastPage) {
  ServiceRig r;
  r.seed(7);
  Json p1 = page_of(r.list({{"limit", "3"}}));
  EXPECT_EQ(ids(p1), (std::vector<std::string>{"doc-USA-7", "doc-USA-6", "doc-USA-5"}));
  EXPECT_EQ(p1["count"], 3);
  ASSERT_TRUE(p1["nextCursor"].is_string());
  EXPECT_EQ(p1["nextCursor"], "5") << "the seq of the last row looked at";
  Json p2 = page_of(r.list({{"limit", "3"}, {"cursor", p1["nextCursor"]}}));
  EXPECT_EQ(ids(p2), (std::vector<std::string>{"doc-USA-4", "doc-USA-3", "doc-USA-2"}));
  Json p3 = page_of(r.list({{"limit", "3"}, {"cursor", p2["nextCursor"]}}));
  EXPECT_EQ(ids(p3), (std::vector<std::string>{"doc-USA-1"}));
  EXPECT_TRUE(p3["nextCursor"].is_null()) << "the last page has no cursor";
  EXPECT_EQ(r.store.lists.back().before_seq, 2);
  EXPECT_FALSE(r.store.lists.back().with_ztdf) << "texts are fetched only for objects not parsed yet";
}

TEST(ResourceServiceList, AnExactlyFullLastPageStillOffersACursorWhenTheStoreMayHoldMore) {
  ServiceRig r;
  r.seed(3);
  Json p = page_of(r.list({{"limit", "3"}}));
  EXPECT_EQ(p["count"], 3);
  EXPECT_TRUE(p["nextCursor"].is_null()) << "3 rows of a fetch of 20: nothing follows";
}

TEST(ResourceServiceList, TheBatchDecisionHidesDeniedDocumentsAndTheAuditCountsThem) {
  ServiceRig r;
  r.seed(7);
  r.denied = {"doc-USA-6", "doc-USA-4"};
  Result res = r.list({{"limit", "3"}});
  Json p = page_of(res);
  EXPECT_EQ(ids(p), (std::vector<std::string>{"doc-USA-7", "doc-USA-5", "doc-USA-3"}));
  EXPECT_EQ(p["nextCursor"], "3");
  EXPECT_EQ(r.pdp.calls, 1) << "one batch for the page";
  Json details = Json::parse(res.audit.details);
  EXPECT_EQ(res.audit.outcome, "allow");
  EXPECT_EQ(details["returned"], 3);
  EXPECT_EQ(details["examined"], 5);
  EXPECT_EQ(details["refused"], 2);
  EXPECT_EQ(details["limit"], 3);
  // The next page starts after the last row looked at: nothing denied shows up later.
  Json p2 = page_of(r.list({{"limit", "3"}, {"cursor", p["nextCursor"]}}));
  EXPECT_EQ(ids(p2), (std::vector<std::string>{"doc-USA-2", "doc-USA-1"}));
}

TEST(ResourceServiceList, AFetchOfOnlyDeniedRowsIsFollowedByTheNextOneWithinTheRoundLimit) {
  ServiceRig r;
  r.seed(30);
  for (int i = 11; i <= 30; ++i) r.denied.insert("doc-USA-" + std::to_string(i));
  Json p = page_of(r.list({{"limit", "1"}}));
  EXPECT_EQ(ids(p), (std::vector<std::string>{"doc-USA-10"}));
  EXPECT_EQ(p["nextCursor"], "10");
  ASSERT_EQ(r.store.lists.size(), 2u) << "the first fetch (20 rows) was all denied";
  EXPECT_EQ(r.store.lists[0].limit, 20);
  EXPECT_EQ(r.store.lists[1].before_seq, 11);
}

TEST(ResourceServiceList, WorkPerRequestIsBoundedAndTheCursorResumesWhereItStopped) {
  ServiceRig r;
  r.seed(120);
  for (int i = 1; i <= 120; ++i) r.denied.insert("doc-USA-" + std::to_string(i));
  Json p = page_of(r.list({{"limit", "1"}}));
  EXPECT_EQ(p["count"], 0);
  EXPECT_EQ(r.store.lists.size(), 5u) << "five fetches at most";
  EXPECT_EQ(p["nextCursor"], "21") << "120 - 5 x 20 rows looked at: continue below seq 21";
}

TEST(ResourceServiceList, FiltersGoToTheStoresPreFilterAndIntoTheAuditRecord) {
  ServiceRig r;
  r.store.add(document("doc-USA-1", ztdf::Classification::kSecret, {"USA", "FRA"}, {"NATO"}), "Alpha plan");
  r.store.add(document("doc-USA-2", ztdf::Classification::kConfidential, {"USA", "FRA"}, {"NATO"}), "Alpha");
  r.store.add(document("doc-USA-3", ztdf::Classification::kSecret, {"USA"}, {"NATO"}), "alpha note");
  r.store.add(document("doc-USA-4", ztdf::Classification::kSecret, {"GBR"}, {"NATO"}), "Alpha for GBR");
  r.store.add(document("doc-USA-5", ztdf::Classification::kTopSecret, {"USA", "FRA"}, {"NATO"}), "Alpha TS");
  Result res =
      r.list({{"classification", "SECRET"}, {"query", "ALPHA"}, {"coi", "NATO"}, {"releasableTo", "FRA"}});
  EXPECT_EQ(ids(page_of(res)), (std::vector<std::string>{"doc-USA-1"}));
  const auto& f = r.store.lists.back();
  EXPECT_EQ(f.country, "USA");
  EXPECT_EQ(f.max_level, 3) << "the caller's canonical clearance (SECRET)";
  EXPECT_EQ(f.classification, 3);
  EXPECT_EQ(f.query, "ALPHA");
  EXPECT_EQ(f.coi, "NATO");
  EXPECT_EQ(f.releasable_to, "FRA");
  EXPECT_EQ(Json::parse(res.audit.details)["filter"],
            (Json{{"classification", 3}, {"coi", "NATO"}, {"query", "ALPHA"}, {"releasableTo", "FRA"}}));
  // Without filters, the clearance and the country still pre-filter (TOP_SECRET, GBR-only left out).
  EXPECT_EQ(ids(page_of(r.list())), (std::vector<std::string>{"doc-USA-3", "doc-USA-2", "doc-USA-1"}));
}

TEST(ResourceServiceList, TheLimitIsAWholeNumberFrom1To100) {
  ServiceRig r;
  r.seed(2);
  for (const char* bad : {"0", "101", "-1"}) {
    Result res = r.list({{"limit", bad}});
    EXPECT_TRUE(res.outcome.is_invalid_input()) << bad;
    EXPECT_EQ(res.outcome.message(), "limit must be between 1 and 100");
  }
  Result nan = r.list({{"limit", "ten"}});
  EXPECT_TRUE(nan.outcome.is_invalid_input());
  EXPECT_EQ(nan.outcome.message(), "limit must be a whole number");
  EXPECT_TRUE(r.store.lists.empty()) << "a bad request never reaches the store";
  EXPECT_EQ(page_of(r.list({{"limit", "100"}}))["count"], 2);
  EXPECT_EQ(r.store.lists.back().limit, 200) << "twice the page is fetched";
  EXPECT_EQ(page_of(r.list({{"limit", "1"}}))["count"], 1);
  r.list();
  EXPECT_EQ(r.store.lists.back().limit, 50) << "the default page is 25";
}

TEST(ResourceServiceList, AMalformedCursorIsInvalidInput) {
  ServiceRig r;
  r.seed(2);
  for (const char* bad : {"abc", "0", "-5", "1x"}) {
    Result res = r.list({{"cursor", bad}});
    EXPECT_EQ(res.outcome.code(), Outcome::Code::kInvalidInput) << bad;
    EXPECT_EQ(res.outcome.message(), "cursor must be a value of nextCursor from a previous page");
  }
  EXPECT_TRUE(r.store.lists.empty());
  EXPECT_EQ(page_of(r.list({{"cursor", ""}}))["count"], 2) << "an empty cursor is the first page";
}

TEST(ResourceServiceList, AnUnknownClassificationFilterIsInvalidInput) {
  ServiceRig r;
  Result res = r.list({{"classification", "COSMIC"}});
  EXPECT_TRUE(res.outcome.is_invalid_input());
  EXPECT_EQ(res.outcome.message(), "unknown classification COSMIC");
}

TEST(ResourceServiceList, ACallerWithoutACountryListsNothing) {
  ServiceRig r;
  r.seed(2);
  r.token.claims.erase("countryOfAffiliation");
  Result res = r.list();
  ASSERT_TRUE(res.outcome.ok());
  EXPECT_EQ(res.data, (Json{{"resources", Json::array()}, {"count", 0}, {"nextCursor", nullptr}}));
  EXPECT_TRUE(r.store.lists.empty());
}

TEST(ResourceServiceList, FailsClosedWhenThePdpOrTheDatabaseIsUnavailable) {
  ServiceRig r;
  r.seed(2);
  r.pdp.down = true;
  Result pdp = r.list();
  EXPECT_TRUE(pdp.outcome.is_unavailable());
  EXPECT_EQ(pdp.outcome.dependency(), Dependency::kPdp);
  EXPECT_TRUE(pdp.text.empty() && pdp.data.is_null()) << "nothing listed without decisions";
  r.pdp.down = false;
  r.store.down = true;
  Result db = r.list();
  EXPECT_EQ(db.outcome.dependency(), Dependency::kDatabase);
  EXPECT_EQ(db.outcome.message(), "the database is unavailable; no access can be decided now");
}

TEST(ResourceServiceList, AStoredObjectThatDoesNotParseIsLeftOut) {
  ServiceRig r;
  r.seed(2);
  auto bad = r.store.rows.front();
  bad.resource_id = "doc-USA-9";
  bad.ztdf = "{\"not\":\"ztdf\"}";
  r.store.add_row(bad);
  EXPECT_EQ(ids(page_of(r.list())), (std::vector<std::string>{"doc-USA-2", "doc-USA-1"}));
}

// ---- read ----

TEST(ResourceServiceRead, AnAllowedReadHasTheMetadataAndTheDecisionAndIsAudited) {
  ServiceRig r;
  r.seed(1);
  Result res = r.read("doc-USA-1");
  ASSERT_TRUE(res.outcome.ok()) << res.outcome.to_string();
  Json body = Json::parse(res.text);
  EXPECT_EQ(body["resourceId"], "doc-USA-1");
  EXPECT_EQ(body["kaoCount"], 1);
  EXPECT_EQ(body["decision"]["allow"], true);
  EXPECT_EQ(body["decision"]["cached"], false);
  EXPECT_EQ(body["ztdf"]["manifest"]["objectId"], "doc-USA-1");
  EXPECT_FALSE(body["ztdf"]["payload"].contains("ciphertext"))
      << "no payload: the content comes from the KAS";
  EXPECT_EQ(res.audit.outcome, "allow");
  EXPECT_EQ(res.audit.reason, "Access granted - all conditions satisfied");
  EXPECT_EQ(res.audit.details, "{\"classification\":\"SECRET\",\"cached\":false}");
  EXPECT_EQ(r.store.text_calls, 1);
  // Again: the decision is cached, and the parsed object is found by the row's hash (no text fetched).
  Result again = r.read("doc-USA-1");
  EXPECT_EQ(again.audit.details, "{\"classification\":\"SECRET\",\"cached\":true}");
  EXPECT_EQ(r.store.text_calls, 1);
  EXPECT_EQ(r.pdp.calls, 1);
}

TEST(ResourceServiceRead, ADenialCarriesTheDecision) {
  ServiceRig r;
  r.seed(1);
  r.denied = {"doc-USA-1"};
  Result res = r.read("doc-USA-1");
  EXPECT_TRUE(res.outcome.is_denied());
  EXPECT_EQ(res.outcome.message(), "Access denied by policy");
  ASSERT_TRUE(res.outcome.reason());
  EXPECT_EQ(*res.outcome.reason(), "Insufficient clearance");
  ASSERT_TRUE(res.outcome.evaluation_details());
  EXPECT_EQ((*res.outcome.evaluation_details())["checks"]["clearance_sufficient"], false);
  EXPECT_TRUE(res.text.empty()) << "nothing of the document";
  EXPECT_TRUE(res.audit.outcome.empty()) << "derived from the outcome by the route";
}

TEST(ResourceServiceRead, AnUnknownIdIsNotFound) {
  ServiceRig r;
  Result res = r.read("doc-USA-404");
  EXPECT_TRUE(res.outcome.is_not_found());
  EXPECT_EQ(res.outcome.message(), "no resource doc-USA-404");
  EXPECT_EQ(r.pdp.calls, 0);
}

TEST(ResourceServiceRead, FailsClosedWithoutADecision) {
  ServiceRig r;
  r.seed(2);
  EXPECT_TRUE(r.read("doc-USA-1").outcome.ok());
  r.pdp.down = true;
  Result res = r.read("doc-USA-2");
  EXPECT_TRUE(res.outcome.is_unavailable());
  EXPECT_EQ(res.outcome.dependency(), Dependency::kPdp);
  EXPECT_EQ(res.outcome.message(), "the policy decision point is unavailable; no access can be decided now");
  EXPECT_TRUE(res.text.empty());
  // An unexpired decision made before still answers (the cache is the PDP's answer, not a weaker rule).
  EXPECT_TRUE(r.read("doc-USA-1").outcome.ok());
}

TEST(ResourceServiceRead, TheDatabaseUnavailableIsUnavailable) {
  ServiceRig r;
  r.seed(1);
  r.store.down = true;
  Result res = r.read("doc-USA-1");
  EXPECT_EQ(res.outcome.dependency(), Dependency::kDatabase);
  EXPECT_EQ(r.pdp.calls, 0);
}

TEST(ResourceServiceRead, AStoredObjectThatDoesNotParseIsAnIntegrityRefusal) {
  ServiceRig r;
  r.seed(1);
  r.store.rows.front().ztdf = "{\"manifest\":{}}";
  r.store.rows.front().ztdf_sha256 = sha256_hex(r.store.rows.front().ztdf);
  Result res = r.read("doc-USA-1");
  EXPECT_EQ(res.outcome.code(), Outcome::Code::kIntegrity);
  EXPECT_EQ(res.outcome.message(), "the stored object of doc-USA-1 is not a valid ZTDF object");
  EXPECT_EQ(r.pdp.calls, 0);
}

TEST(ResourceServiceRead, TheZtdfRouteAnswersTheStoredTextAsItIs) {
  ServiceRig r;
  r.seed(1);
  Result res = r.service.ztdf(r.token, "doc-USA-1", "req-1");
  ASSERT_TRUE(res.outcome.ok());
  EXPECT_EQ(res.text, r.store.rows.front().ztdf);
  EXPECT_EQ(res.audit.details, "{\"object\":\"ztdf\",\"classification\":\"SECRET\"}");
  r.denied = {"doc-USA-1"};
  r.forget_decisions();
  EXPECT_TRUE(r.service.ztdf(r.token, "doc-USA-1", "req-2").outcome.is_denied());
}

// ---- upload ----

TEST(ResourceServiceUpload, MalformedInputIsInvalidInputAndNeverReachesThePdp) {
  ServiceRig r;
  r.store.kas_key = documents::KasKey{"kas-1", service_kas_key().public_key(), nullptr, true};
  auto with = [](const char* k, Json v) {
    Json b = upload_body();
    b[k] = std::move(v);
    return b;
  };
  Json no_title = upload_body();
  no_title.erase("title");
  const std::vector<std::pair<Json, std::string>> cases = {
      {Json::array(), "the body must be a JSON object"},
      {no_title, "title: a string of 1 to 512 characters is required"},
      {with("title", std::string(513, 'x')), "title: a string of 1 to 512 characters is required"},
      {with("content", 5), "content: base64 text is required"},
      {with("content", "***"), "content: not valid base64"},
      {with("classification", "COSMIC"), "classification: unknown"},
      {with("COI", "NATO"), "releasabilityTo, COI and caveats must be arrays of strings"},
      {with("coiOperator", "SOME"), "coiOperator: ALL or ANY"},
      {with("releasableToIndustry", "yes"), "releasableToIndustry must be a boolean"},
      {with("kasInstances", Json::array({"FRA"})),
       "kasInstances: FRA is not a member of the federation with a KAS key"},
  };
  for (const auto& [body, message] : cases) {
    Result res = r.upload(body);
    EXPECT_TRUE(res.outcome.is_invalid_input()) << body.dump();
    EXPECT_EQ(res.outcome.message(), message) << body.dump();
  }
  Result not_json = r.service.upload(r.token, "{", "req-1");
  EXPECT_EQ(not_json.outcome.message(), "the body must be JSON");
  EXPECT_EQ(r.pdp.calls, 0);
  EXPECT_TRUE(r.store.rows.empty());
}

TEST(ResourceServiceUpload, AnAllowedUploadIsStoredEncryptedAndReadsBack) {
  ServiceRig r;
  r.store.kas_key = documents::KasKey{"kas-1", service_kas_key().public_key(), nullptr, true};
  Result res = r.upload(upload_body());
  ASSERT_TRUE(res.outcome.ok()) << res.outcome.to_string();
  const std::string id = res.data["resourceId"];
  EXPECT_EQ(id.rfind("doc-USA-", 0), 0u);
  EXPECT_EQ(res.data["classification"], "SECRET");
  EXPECT_EQ(res.data["decision"]["allow"], true);
  EXPECT_EQ(res.audit.outcome, "allow");
  EXPECT_EQ(res.audit.resource, id);
  EXPECT_EQ(Json::parse(res.audit.details)["kas"], 1);
  ASSERT_EQ(r.store.rows.size(), 1u);
  EXPECT_EQ(r.store.rows[0].source, "upload");
  EXPECT_EQ(r.store.rows[0].owner, "testuser-usa-3");
  EXPECT_EQ(r.store.rows[0].ztdf.find("hello"), std::string::npos) << "stored encrypted";
  Result back = r.key(id);
  ASSERT_TRUE(back.outcome.ok()) << back.outcome.to_string();
  EXPECT_EQ(base64_decode(back.data["content"].get<std::string>()), "hello");
}

TEST(ResourceServiceUpload, ADeniedUploadIsNotStoredAndItsRecordNamesTheNewId) {
  ServiceRig r;
  r.store.kas_key = documents::KasKey{"kas-1", service_kas_key().public_key(), nullptr, true};
  r.pdp.rule = [](const Json&) { return std::pair<bool, std::string>{false, "Not releasable"}; };
  Result res = r.upload(upload_body());
  EXPECT_TRUE(res.outcome.is_denied());
  EXPECT_EQ(*res.outcome.reason(), "Not releasable");
  EXPECT_EQ(res.audit.resource.rfind("doc-USA-", 0), 0u);
  EXPECT_EQ(res.audit.details, "{\"classification\":\"SECRET\",\"cached\":false}");
  EXPECT_TRUE(r.store.rows.empty());
}

TEST(ResourceServiceUpload, WithoutTheKasKeyOrTheDatabaseOrAConfirmedCommitItIsUnavailable) {
  ServiceRig r;
  Result no_key = r.upload(upload_body());
  EXPECT_EQ(no_key.outcome.dependency(), Dependency::kKas);
  EXPECT_EQ(
      no_key.outcome.message(),
      "the key access service (it has not created its key yet) is unavailable; no access can be decided now");
  r.store.kas_key = documents::KasKey{"kas-1", service_kas_key().public_key(), nullptr, true};
  r.store.in_doubt = true;
  Result doubt = r.upload(upload_body());
  EXPECT_EQ(doubt.outcome.dependency(), Dependency::kDatabase);
  EXPECT_NE(doubt.outcome.message().find("may or may not have been stored"), std::string::npos);
  r.store.in_doubt = false;
  r.store.down = true;
  EXPECT_EQ(r.upload(upload_body()).outcome.dependency(), Dependency::kDatabase);
  r.store.down = false;
  r.pdp.down = true;
  EXPECT_EQ(r.upload(upload_body()).outcome.dependency(), Dependency::kPdp);
}

// ---- key ----

TEST(ResourceServiceKey, TheKasReleasesTheKeyAndTheContentIsDecrypted) {
  ServiceRig r;
  r.seed(1);
  Result res = r.key("doc-USA-1");
  ASSERT_TRUE(res.outcome.ok()) << res.outcome.to_string();
  EXPECT_EQ(base64_decode(res.data["content"].get<std::string>()), "the text of doc-USA-1");
  EXPECT_EQ(res.data["kid"], "kas-1");
  EXPECT_EQ(r.kas.urls, (std::vector<std::string>{kKasUrl + "/request-key"}));
  EXPECT_EQ(res.audit.outcome, "allow");
  EXPECT_EQ(Json::parse(res.audit.details)["rewrapped"], false);
}

TEST(ResourceServiceKey, ARefusalOfTheKasIsPassedOnAsItsDecision) {
  ServiceRig r;
  r.seed(1);
  r.kas.status = 403;
  r.kas.refusal = Json{{"error", "Forbidden"},
                       {"message", "Key release denied by policy"},
                       {"reason", "Clearance too low"},
                       {"evaluation_details", {{"checks", {{"clearance_sufficient", false}}}}}};
  Result res = r.key("doc-USA-1");
  EXPECT_TRUE(res.outcome.is_denied());
  EXPECT_EQ(res.outcome.message(), "Key release denied by policy");
  EXPECT_EQ(*res.outcome.reason(), "Clearance too low");
  EXPECT_EQ(*res.outcome.evaluation_details(), r.kas.refusal["evaluation_details"]);
  EXPECT_EQ(res.audit.outcome, "deny");
  EXPECT_EQ(res.audit.reason, "refused by the KAS: Clearance too low");
  r.kas.status = 401;
  r.kas.refusal = Json{{"error", "Unauthorized"}, {"message", "token revoked"}};
  Result unauth = r.key("doc-USA-1");
  EXPECT_EQ(unauth.outcome.code(), Outcome::Code::kUnauthenticated);
  EXPECT_FALSE(unauth.outcome.reason()) << "none given, none invented";
  EXPECT_EQ(unauth.audit.reason, "refused by the KAS: token revoked");
}

TEST(ResourceServiceKey, NoKasIsUnavailableAndABadBodyIsInvalidInput) {
  ServiceRig r;
  r.seed(1);
  r.kas.down = true;
  Result res = r.key("doc-USA-1");
  EXPECT_EQ(res.outcome.dependency(), Dependency::kKas);
  EXPECT_EQ(res.outcome.message(), "the key access service is unavailable; no access can be decided now");
  EXPECT_TRUE(r.key("doc-USA-1", "[1]").outcome.is_invalid_input());
  EXPECT_TRUE(r.key("doc-USA-1", "{").outcome.is_invalid_input());
  r.denied = {"doc-USA-1"};
  r.forget_decisions();
  r.kas.urls.clear();
  EXPECT_TRUE(r.key("doc-USA-1").outcome.is_denied());
  EXPECT_TRUE(r.kas.urls.empty()) << "the PEP decides before the KAS is asked";
}
