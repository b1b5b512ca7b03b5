// The registry's life cycle and the shape checks of a registration (federation/registry.hpp); the
// PostgreSQL side is exercised by the federation integration test.
#include <gtest/gtest.h>

#include "federation/registry.hpp"

namespace dive::federation {
namespace {

using S = SpokeStatus;
using A = Action;

TEST(Lifecycle, FollowsPendingApprovedSuspendedRevoked) {
  EXPECT_EQ(next_status(S::Pending, A::Approve), S::Approved);
  EXPECT_EQ(next_status(S::Approved, A::Suspend), S::Suspended);
  EXPECT_EQ(next_status(S::Suspended, A::Reinstate), S::Approved);
  EXPECT_EQ(next_status(S::Approved, A::Revoke), S::Revoked);
  EXPECT_EQ(next_status(S::Pending, A::Revoke), S::Revoked);
  EXPECT_EQ(next_status(S::Suspended, A::Revoke), S::Revoked);
  EXPECT_EQ(next_status(S::Approved, A::Rotate), S::Approved);
  EXPECT_EQ(next_status(S::Suspended, A::Rotate), S::Suspended);
}

TEST(Lifecycle, RefusesWhatMakesNoSense) {
  EXPECT_FALSE(next_status(S::Pending, A::Suspend));
  EXPECT_FALSE(next_status(S::Pending, A::Reinstate));
  EXPECT_FALSE(next_status(S::Approved, A::Approve));
  EXPECT_FALSE(next_status(S::Approved, A::Reinstate));
  EXPECT_FALSE(next_status(S::Suspended, A::Approve));
  for (auto a : {A::Approve, A::Suspend, A::Reinstate, A::Revoke, A::Rotate})
    EXPECT_FALSE(next_status(S::Revoked, a)) << "revoked is final: " << to_string(a);
}

TEST(Lifecycle, StatusNamesRoundTrip) {
  for (auto s : {S::Pending, S::Approved, S::Suspended, S::Revoked}) EXPECT_EQ(parse_status(to_string(s)), s);
  EXPECT_FALSE(parse_status("APPROVED"));
}

// Not a certificate: every check below fails before the CA is looked at, except the one about the CA.
const char* kCa = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";

Json valid_registration() {
  return Json{{"code", "FRA"},
              {"name", "France"},
              {"issuer", "https://fra:8443/realms/dive-v3-broker-fra"},
              {"jwksUrl", "https://fra:8443/realms/dive-v3-broker-fra/protocol/openid-connect/certs"},
              {"apiUrl", "https://fra:4000"},
              {"idpUrl", "https://fra:8443"},
              {"kasUrl", "https://fra:10000"},
              {"caPem", kCa}};
}

TEST(Registration, RefusesMissingFieldsPlainHttpAndBadCodes) {
  auto bad = [](Json j) {
    try {
      Registration::from_json(j);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  Json j = valid_registration();
  j.erase("issuer");
  EXPECT_NE(bad(j).find("issuer"), std::string::npos);
  j = valid_registration();
  j["apiUrl"] = "http://fra:4000";
  EXPECT_NE(bad(j).find("https"), std::string::npos);
  j = valid_registration();
  j["code"] = "fr";
  EXPECT_NE(bad(j).find("code"), std::string::npos);
  EXPECT_NE(bad(valid_registration()).find("certificate"), std::string::npos);
  EXPECT_NE(bad(Json::array()), "accepted");
  j = valid_registration();
  j["kasUrl"] = 42;
  EXPECT_NE(bad(j).find("kasUrl"), std::string::npos);
}

TEST(Levels, KnowsTheDiveVocabulary) {
  EXPECT_TRUE(valid_classification("SECRET"));
  EXPECT_FALSE(valid_classification("secret"));
  EXPECT_FALSE(valid_classification("COSMIC"));
  EXPECT_TRUE(valid_trust_level("DEVELOPMENT"));
  EXPECT_FALSE(valid_trust_level("TOTAL"));
}

TEST(Staleness, ThreeMissedIntervalsOfAnApprovedSpoke) {
  using namespace std::chrono;
  SpokeRecord r;
  r.status = S::Approved;
  auto t0 = system_clock::time_point(seconds(1'000'000));
  r.updated_at = t0;
  EXPECT_FALSE(r.stale(t0 + milliseconds(2999), milliseconds(1000)));  // never beat: counts from approval
  EXPECT_TRUE(r.stale(t0 + milliseconds(3001), milliseconds(1000)));
  r.last_heartbeat = t0 + seconds(10);
  EXPECT_FALSE(r.stale(t0 + seconds(12), milliseconds(1000)));
  EXPECT_TRUE(r.stale(t0 + seconds(14), milliseconds(1000)));
  r.status = S::Suspended;  // a suspended spoke is not "stale": it is out
  EXPECT_FALSE(r.stale(t0 + seconds(100), milliseconds(1000)));
}

}  // namespace
}  // namespace dive::federation
