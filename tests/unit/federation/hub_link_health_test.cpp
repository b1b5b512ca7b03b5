// A spoke's view of whether its hub answers (federation/hub_link_health.hpp), behind its "hub" health check.
#include <gtest/gtest.h>

#include "federation/hub_link_health.hpp"

namespace dive::federation {
namespace {

TEST(HubLinkHealth, UpUntilARequestFailsAndSinceWhen) {
  HubLinkHealth h;
  EXPECT_TRUE(h.up()) << "no request yet: nothing known against the hub";
  EXPECT_TRUE(h.details("https://hub:4000")["lastContactMs"].is_null());
  h.answered(200, "https://hub:4000/api/federation/heartbeat", 1000);
  EXPECT_TRUE(h.up());
  EXPECT_EQ(h.last_contact_ms(), 1000);
  h.failed("connection refused", 2000);
  h.failed("timeout", 3000);
  EXPECT_FALSE(h.up());
  EXPECT_EQ(h.error(), "timeout");
  EXPECT_EQ(h.failing_since_ms(), 2000) << "the first failure of the run";
  EXPECT_EQ(h.last_contact_ms(), 1000);
  Json d = h.details("https://hub:4000");
  EXPECT_EQ(d["failingSinceMs"], 2000);
  EXPECT_EQ(d["hubUrl"], "https://hub:4000");
  h.answered(304, "https://hub:4000/api/federation/bundle", 4000);
  EXPECT_TRUE(h.up());
  EXPECT_EQ(h.failing_since_ms(), 0);
}

TEST(HubLinkHealth, ARegistryRefusalIsAnAnswerAServerErrorIsNot) {
  HubLinkHealth h;
  h.answered(403, "u", 1);  // suspended or pending: the hub is there
  EXPECT_TRUE(h.up());
  h.answered(401, "u", 2);
  EXPECT_TRUE(h.up());
  h.answered(503, "https://hub:4000/api/federation/bundle", 3);
  EXPECT_FALSE(h.up());
  EXPECT_NE(h.error().find("HTTP 503"), std::string::npos) << h.error();
  h.failed("", 4);
  EXPECT_EQ(h.error(), "no answer");
  EXPECT_EQ(h.failing_since_ms(), 3);
}

}  // namespace
}  // namespace dive::federation
