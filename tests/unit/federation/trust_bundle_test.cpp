// The signed trust bundle (federation/trust_bundle.hpp): signature, type, tampering, and what an instance
// derives from it (pdp data accepted by the policy engine, the CA set).
#include "federation/trust_bundle.hpp"

#include <gtest/gtest.h>

#include "common/encoding.hpp"
#include "identity/jws.hpp"
#include "identity/keys.hpp"
#include "policy/bundle.hpp"

namespace dive::federation {
namespace {

TrustMember member(const std::string& code, const std::string& role = "spoke") {
  TrustMember m;
  m.code = code;
  m.name = code + " name";
  m.role = role;
  m.issuer = "https://" + code + ":8443/realms/dive-v3-broker-" + code;
  m.jwks_url = m.issuer + "/protocol/openid-connect/certs";
  m.api_url = "https://" + code + ":4000";
  m.idp_url = "https://" + code + ":8443";
  m.kas_url = "https://" + code + ":10000";
  m.ca_pem = "-----BEGIN CERTIFICATE-----\n" + code + "\n-----END CERTIFICATE-----\n";
  m.allowed_countries = {code};
  return m;
}

TrustBundle bundle() {
  TrustBundle b;
  b.revision = 7;
  b.hub = "USA";
  b.issued_at_ms = 1'700'000'000'000;
  b.members = {member("USA", "hub"), member("FRA"), member("GBR")};
  b.members[1].max_classification = "SECRET";
  return b;
}

TEST(TrustBundle, SignedBundleVerifiesAndRoundTrips) {
  auto key = identity::SigningKey::generate_ec_p256();
  auto jws = sign_bundle(bundle(), key);
  auto v = verify_bundle(jws, key.public_key());
  ASSERT_EQ(v.outcome, VerifyOutcome::Ok) << v.error;
  EXPECT_EQ(v.bundle.revision, 7);
  ASSERT_EQ(v.bundle.members.size(), 3u);
  EXPECT_EQ(v.bundle.member("FRA")->max_classification, "SECRET");
  EXPECT_TRUE(v.bundle.same_content(bundle()));
}

TEST(TrustBundle, AnotherKeyOrATamperedPayloadIsRefused) {
  auto key = identity::SigningKey::generate_ec_p256();
  auto other = identity::SigningKey::generate_ec_p256();
  auto jws = sign_bundle(bundle(), key);
  EXPECT_EQ(verify_bundle(jws, other.public_key()).outcome, VerifyOutcome::BadSignature);
  // Swap the payload for one that trusts an extra issuer, keeping header and signature.
  auto first = jws.find('.'), second = jws.find('.', first + 1);
  auto b = bundle();
  b.members.push_back(member("EVL"));
  auto forged = jws.substr(0, first + 1) + base64url_encode(b.to_json().dump()) + jws.substr(second);
  auto v = verify_bundle(forged, key.public_key());
  EXPECT_EQ(v.outcome, VerifyOutcome::BadSignature);
  EXPECT_EQ(v.error.find("EVL"), std::string::npos);
  EXPECT_EQ(verify_bundle("junk", key.public_key()).outcome, VerifyOutcome::Malformed);
}

TEST(TrustBundle, AJwtOfTheSameKeyIsNotABundle) {
  auto key = identity::SigningKey::generate_ec_p256();
  auto token = identity::sign(Json{{"typ", "JWT"}}, bundle().to_json().dump(), key);
  EXPECT_EQ(verify_bundle(token, key.public_key()).outcome, VerifyOutcome::WrongType);
}

TEST(TrustBundle, SameContentIgnoresRevisionAndTime) {
  auto a = bundle(), b = bundle();
  b.revision = 8;
  b.issued_at_ms += 5000;
  EXPECT_TRUE(a.same_content(b));
  b.members[2].trust_level = "LOW";
  EXPECT_FALSE(a.same_content(b));
}

TEST(TrustBundle, PolicyDataIsAcceptedByThePdpAndTrustsEveryMember) {
  auto data = policy_bundle_for(bundle().members);
  auto parsed = policy::parse_bundle(data);
  EXPECT_TRUE(parsed->from_bundle.trusted_issuers);
  EXPECT_EQ(parsed->issuer_tenant.size(), 3u);
  EXPECT_EQ(parsed->issuer_tenant.at(member("FRA").issuer), "FRA");
  ASSERT_TRUE(parsed->federation_matrix.count("FRA"));
  EXPECT_TRUE(parsed->federation_matrix.at("FRA").count("USA"));
  EXPECT_TRUE(parsed->federation_matrix.at("FRA").count("GBR"));
  EXPECT_FALSE(parsed->federation_matrix.at("FRA").count("FRA"));
  EXPECT_EQ(data["trusted_issuers"][member("FRA").issuer]["max_classification"], "SECRET");
  // The same membership gives the same data (the deploy and the agent write the same revision).
  EXPECT_EQ(policy_bundle_for(bundle().members), data);
}

TEST(TrustBundle, CaSetStartsWithTheOwnCaAndHasNoDuplicates) {
  auto b = bundle();
  b.members.push_back(member("FRA"));  // same CA twice
  auto own = member("USA").ca_pem;
  auto set = ca_set_pem(b, own);
  EXPECT_EQ(set.rfind(own, 0), 0u);
  size_t n = 0;
  for (size_t at = set.find("BEGIN CERTIFICATE"); at != std::string::npos;
       at = set.find("BEGIN CERTIFICATE", at + 1))
    ++n;
  EXPECT_EQ(n, 3u);
}

TEST(TrustBundle, RegistryGivesHubFirstThenApprovedSpokesOnly) {
  std::vector<SpokeRecord> spokes(3);
  spokes[0].reg.code = "FRA";
  spokes[0].status = SpokeStatus::Approved;
  spokes[1].reg.code = "GBR";
  spokes[1].status = SpokeStatus::Suspended;
  spokes[2].reg.code = "DEU";
  spokes[2].status = SpokeStatus::Pending;
  auto b = bundle_from_registry(member("USA", "hub"), spokes);
  ASSERT_EQ(b.members.size(), 2u);
  EXPECT_EQ(b.members[0].code, "USA");
  EXPECT_EQ(b.members[1].code, "FRA");
  // A suspended spoke is named (searches report it), without being trusted.
  EXPECT_EQ(b.suspended, std::vector<std::string>{"GBR"});
  auto key = identity::SigningKey::generate_ec_p256();
  auto v = verify_bundle(sign_bundle(b, key), key.public_key());
  ASSERT_EQ(v.outcome, VerifyOutcome::Ok);
  EXPECT_EQ(v.bundle.suspended, std::vector<std::string>{"GBR"});
}

}  // namespace
}  // namespace dive::federation
