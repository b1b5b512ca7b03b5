// The kas decision: binding proven before the policy is trusted, a fresh decision, fail closed.
#include "access/key_release.hpp"

#include <gtest/gtest.h>

#include "common/encoding.hpp"
#include "fake_pdp.hpp"
#include "ztdf/encrypt.hpp"
#include "ztdf/serialize.hpp"

using namespace dive;
using namespace dive::access;
using dive::access::testing::FakeAuthorizer;
using dive::access::testing::FakePdp;

namespace {

const ztdf::PrivateKey& kas_key() {
  static ztdf::PrivateKey k = ztdf::PrivateKey::generate_rsa(2048);
  return k;
}

struct KasRig {
  FakeAuthorizer decider{FakeAuthorizer::Cache::kNone};  // the kas's: every key on a fresh decision
  FakePdp& pdp = decider.pdp;
  std::shared_ptr<const ztdf::PrivateKey> key = std::make_shared<ztdf::PrivateKey>(kas_key());
  KeyRelease release{[this](const std::string& kid) { return kid == "kas-1" ? key : nullptr; },
                     decider.authorizer, "USA"};
  ztdf::Object doc;
  identity::VerifiedToken token;
  KasRig() {
    ztdf::SecurityLabel l;
    l.classification = ztdf::Classification::kSecret;
    l.releasability_to = {"USA", "GBR"};
    l.originating_country = "USA";
    ztdf::ObjectInfo info;
    info.object_id = "doc-USA-1";
    doc = ztdf::encrypt("the secret text", l, {{"https://kas.test", "kas-1", kas_key().public_key()}}, info);
    token.issuer = "https://idp.test/realms/dive-v3-broker-usa";
    token.claims =
        Json{{"uniqueID", "testuser-usa-4"}, {"clearance", "SECRET"}, {"countryOfAffiliation", "USA"}};
    token.acr = "1";
    token.amr = {"pwd", "otp"};
  }
  Json body() const {
    return Json{{"policy", ztdf::to_json(doc.policy)}, {"kao", ztdf::to_json(doc.key_access[0])}};
  }
  KeyReleaseResult ask(const Json& b) { return release.handle(b.dump(), token, "req-1"); }
};

}  // namespace

TEST(KeyRelease, ReleasesTheKeyOnAnAllowAndTheKeyOpensTheDocument) {
  KasRig r;
  Json seen;
  r.pdp.rule = [&](const Json& in) {
    seen = in;
    return std::pair<bool, std::string>{true, "ok"};
  };
  auto res = r.ask(r.body());
  ASSERT_TRUE(res.outcome.ok()) << res.outcome.to_string();
  EXPECT_STREQ(res.decision(), "granted");
  auto raw = base64_decode(res.key["dataKey"].get<std::string>());
  ASSERT_TRUE(raw);
  EXPECT_EQ(ztdf::decrypt(r.doc, ztdf::DataKey::from_bytes(*raw)), "the secret text");
  // The input is built from the token and the bound label, operation decrypt.
  EXPECT_EQ(seen["action"]["operation"], "decrypt");
  EXPECT_EQ(seen["resource"]["classification"], "SECRET");
  EXPECT_EQ(seen["subject"]["uniqueID"], "testuser-usa-4");
  EXPECT_EQ(seen["context"]["acr"], "1");
  EXPECT_EQ(seen["context"]["tenant"], "USA");
}

TEST(KeyRelease, AChangedLabelOrWrappedKeyIsAnIntegrityRefusalBeforeAnyDecision) {
  KasRig r;
  Json label = r.body();
  label["policy"]["securityLabel"]["releasabilityTo"].push_back("FRA");
  auto a = r.ask(label);
  EXPECT_EQ(a.outcome.code(), Outcome::Code::kIntegrity);
  EXPECT_STREQ(a.decision(), "integrity");
  Json wrapped = r.body();
  std::string w = *base64_decode(wrapped["kao"]["wrappedKey"].get<std::string>());
  w[10] ^= 1;
  wrapped["kao"]["wrappedKey"] = base64_encode(w);
  auto b = r.ask(wrapped);
  EXPECT_EQ(b.outcome.code(), Outcome::Code::kIntegrity);
  EXPECT_STREQ(b.decision(), "integrity");
  EXPECT_EQ(r.pdp.calls, 0) << "an unproven policy is never put to the pdp";
  EXPECT_FALSE(a.key.contains("dataKey"));
  EXPECT_FALSE(b.key.contains("dataKey"));
}

TEST(KeyRelease, ADenialCarriesThePolicyReasonAndNoKey) {
  KasRig r;
  r.pdp.rule = [](const Json&) { return std::pair<bool, std::string>{false, "Insufficient clearance"}; };
  auto res = r.ask(r.body());
  EXPECT_TRUE(res.outcome.is_denied());
  EXPECT_STREQ(res.decision(), "denied");
  EXPECT_EQ(res.outcome.message(), "Key release denied by policy");
  EXPECT_EQ(*res.outcome.reason(), "Insufficient clearance");
  EXPECT_TRUE(res.outcome.evaluation_details());
  EXPECT_EQ(res.reason, "Insufficient clearance");
  EXPECT_FALSE(res.key.contains("dataKey"));
}

TEST(KeyRelease, NoDecisionMeansUnavailableAndNoKey) {
  KasRig r;
  r.pdp.down = true;
  auto res = r.ask(r.body());
  EXPECT_EQ(res.outcome.dependency(), Dependency::kPdp);
  EXPECT_EQ(res.outcome.message(), "no authorization decision can be made now");
  EXPECT_STREQ(res.decision(), "unavailable");
  EXPECT_FALSE(res.key.contains("dataKey"));
}

TEST(KeyRelease, BadRequestsAreInvalidInput) {
  KasRig r;
  auto bad = r.release.handle("not json", r.token, "x");
  EXPECT_TRUE(bad.outcome.is_invalid_input());
  EXPECT_STREQ(bad.decision(), "invalid");
  EXPECT_EQ(bad.reason, bad.outcome.message());
  EXPECT_TRUE(r.ask(Json{{"policy", r.body()["policy"]}}).outcome.is_invalid_input()) << "kao missing";
  Json extra = r.body();
  extra["resourceMetadata"] = {{"classification", "UNCLASSIFIED"}};
  EXPECT_EQ(r.ask(extra).outcome.message(), "unknown member \"resourceMetadata\"")
      << "caller metadata is refused, never read";
  Json other_kid = r.body();
  other_kid["kao"]["kid"] = "kas-9";
  EXPECT_TRUE(r.ask(other_kid).outcome.is_invalid_input());
  Json bad_client = r.body();
  bad_client["clientPublicKey"] = "not a key";
  EXPECT_TRUE(r.ask(bad_client).outcome.is_invalid_input());
  EXPECT_EQ(r.pdp.calls, 1) << "only the last request got as far as a decision";
}

TEST(KeyRelease, RewrapsToTheClientKey) {
  KasRig r;
  auto client = ztdf::PrivateKey::generate_rsa(2048);
  Json b = r.body();
  b["clientPublicKey"] = client.public_key().to_pem();
  auto res = r.ask(b);
  ASSERT_TRUE(res.outcome.ok()) << res.outcome.to_string();
  EXPECT_FALSE(res.key.contains("dataKey"));
  EXPECT_EQ(res.key["wrappingAlgorithm"], "RSA-OAEP-256");
  auto key = ztdf::unwrap_rewrapped(res.key["wrappedKey"].get<std::string>(), client);
  EXPECT_EQ(ztdf::decrypt(r.doc, key), "the secret text");
}
