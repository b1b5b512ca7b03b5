// The kas decision: binding proven before the policy is trusted, a fresh decision, fail closed.
#include "access/key_release.hpp"

#include <gtest/gtest.h>

#include "common/encoding.hpp"
#include "fake_pdp.hpp"
#include "ztdf/encrypt.hpp"
#include "ztdf/serialize.hpp"

using namespace dive;
using namespace dive::access;
using dive::access::testing::FakePdp;

namespace {

const ztdf::PrivateKey& kas_key() {
  static ztdf::PrivateKey k = ztdf::PrivateKey::generate_rsa(2048);
  return k;
}

struct KasRig {
  FakeClock clock;
  FakePdp pdp;
  resilience::CircuitBreaker breaker{"pdp", resilience::BreakerConfig{}, clock};
  PdpClient client{pdp, breaker, "https://pdp.test"};
  DecisionCache cache{clock};
  Authorizer authorizer{client, cache, false};
  std::shared_ptr<const ztdf::PrivateKey> key = std::make_shared<ztdf::PrivateKey>(kas_key());
  KeyRelease release{[this](const std::string& kid) { return kid == "kas-1" ? key : nullptr; }, authorizer,
                     "USA"};
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
  ASSERT_EQ(res.status, 200) << res.body.dump();
  EXPECT_EQ(res.decision, "granted");
  auto raw = base64_decode(res.body["dataKey"].get<std::string>());
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
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.decision, "integrity");
  Json wrapped = r.body();
  std::string w = *base64_decode(wrapped["kao"]["wrappedKey"].get<std::string>());
  w[10] ^= 1;
  wrapped["kao"]["wrappedKey"] = base64_encode(w);
  auto b = r.ask(wrapped);
  EXPECT_EQ(b.status, 403);
  EXPECT_EQ(b.decision, "integrity");
  EXPECT_EQ(r.pdp.calls, 0) << "an unproven policy is never put to the pdp";
  EXPECT_FALSE(a.body.contains("dataKey"));
  EXPECT_FALSE(b.body.contains("dataKey"));
}

TEST(KeyRelease, ADenialCarriesThePolicyReasonAndNoKey) {
  KasRig r;
  r.pdp.rule = [](const Json&) { return std::pair<bool, std::string>{false, "Insufficient clearance"}; };
  auto res = r.ask(r.body());
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(res.body["reason"], "Insufficient clearance");
  EXPECT_FALSE(res.body.contains("dataKey"));
}

TEST(KeyRelease, NoDecisionMeans503AndNoKey) {
  KasRig r;
  r.pdp.down = true;
  auto res = r.ask(r.body());
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(res.decision, "unavailable");
  EXPECT_FALSE(res.body.contains("dataKey"));
}

TEST(KeyRelease, BadRequestsAre400) {
  KasRig r;
  EXPECT_EQ(r.release.handle("not json", r.token, "x").status, 400);
  EXPECT_EQ(r.ask(Json{{"policy", r.body()["policy"]}}).status, 400) << "kao missing";
  Json extra = r.body();
  extra["resourceMetadata"] = {{"classification", "UNCLASSIFIED"}};
  EXPECT_EQ(r.ask(extra).status, 400) << "caller metadata is refused, never read";
  Json other_kid = r.body();
  other_kid["kao"]["kid"] = "kas-9";
  EXPECT_EQ(r.ask(other_kid).status, 400);
  Json bad_client = r.body();
  bad_client["clientPublicKey"] = "not a key";
  EXPECT_EQ(r.ask(bad_client).status, 400);
  EXPECT_EQ(r.pdp.calls, 1) << "only the last request got as far as a decision";
}

TEST(KeyRelease, RewrapsToTheClientKey) {
  KasRig r;
  auto client = ztdf::PrivateKey::generate_rsa(2048);
  Json b = r.body();
  b["clientPublicKey"] = client.public_key().to_pem();
  auto res = r.ask(b);
  ASSERT_EQ(res.status, 200) << res.body.dump();
  EXPECT_FALSE(res.body.contains("dataKey"));
  auto key = ztdf::unwrap_rewrapped(res.body["wrappedKey"].get<std::string>(), client);
  EXPECT_EQ(ztdf::decrypt(r.doc, key), "the secret text");
}
