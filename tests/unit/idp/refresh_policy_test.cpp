#include <gtest/gtest.h>

#include "identity/idp/refresh_policy.hpp"

using namespace dive::identity::idp;

namespace {
RefreshRecord live() {
  RefreshRecord r;
  r.family_id = "f";
  r.user_id = "u";
  r.client_id = "dive-cli";
  r.session_started_ms = 1'000'000;
  r.expires_ms = 2'000'000;
  return r;
}
}  // namespace

TEST(RefreshPolicy, ALiveTokenRotates) {
  EXPECT_EQ(judge_refresh(live(), "dive-cli", 1'500'000), RefreshVerdict::Rotate);
}

TEST(RefreshPolicy, ARotatedTokenPresentedAgainIsReuse) {
  RefreshRecord r = live();
  r.rotated = true;
  EXPECT_EQ(judge_refresh(r, "dive-cli", 1'500'000), RefreshVerdict::Reuse);
  r.revoked = true;  // the family was already revoked: refused, nothing more to do
  EXPECT_EQ(judge_refresh(r, "dive-cli", 1'500'000), RefreshVerdict::Revoked);
}

TEST(RefreshPolicy, RevokedExpiredAndForeignTokensAreRefused) {
  RefreshRecord r = live();
  r.revoked = true;
  EXPECT_EQ(judge_refresh(r, "dive-cli", 1'500'000), RefreshVerdict::Revoked);
  EXPECT_EQ(judge_refresh(live(), "dive-cli", 2'000'000), RefreshVerdict::Expired);
  EXPECT_EQ(judge_refresh(live(), "dive-web", 1'500'000), RefreshVerdict::WrongClient);
}

TEST(RefreshPolicy, AFamilyNeverOutlivesTheSessionMaximum) {
  EXPECT_EQ(refresh_expiry_ms(10'000, 0, 1800, 36000), 10'000 + 1'800'000);
  EXPECT_EQ(refresh_expiry_ms(35'000'000, 0, 1800, 36000), 36'000'000);
}
