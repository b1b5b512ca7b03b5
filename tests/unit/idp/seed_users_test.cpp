#include <gtest/gtest.h>

#include <algorithm>

#include "common/fs.hpp"
#include "identity/idp/seed_users.hpp"

using namespace dive;
using namespace dive::identity::idp;

namespace {
Json seed() {
  return Json::parse(read_file(DIVE_SEED_FILE));
}
const SeedAccount* find(const std::vector<SeedAccount>& a, const std::string& name) {
  auto it = std::find_if(a.begin(), a.end(), [&](const SeedAccount& s) { return s.username == name; });
  return it == a.end() ? nullptr : &*it;
}
}  // namespace

TEST(SeedUsers, HubHasFiveTestUsersTheAdminAndItsIndustryUser) {
  auto a = seed_accounts(seed(), "USA", "United States");
  ASSERT_EQ(a.size(), 7u);
  const char* levels[] = {"UNCLASSIFIED", "RESTRICTED", "CONFIDENTIAL", "SECRET", "TOP_SECRET"};
  for (int i = 1; i <= 5; ++i) {
    auto* u = find(a, "testuser-usa-" + std::to_string(i));
    ASSERT_TRUE(u) << i;
    EXPECT_EQ(u->attrs.clearance, levels[i - 1]);
    EXPECT_EQ(u->attrs.country, "USA");
    EXPECT_EQ(u->attrs.unique_id, u->username);
    EXPECT_EQ(u->attrs.roles, std::vector<std::string>{"user"});
  }
  EXPECT_EQ(find(a, "testuser-usa-4")->attrs.acp_coi, std::vector<std::string>{"NATO"});
  EXPECT_EQ(find(a, "testuser-usa-5")->attrs.acp_coi, (std::vector<std::string>{"NATO", "FVEY"}));
  auto* admin = find(a, "admin-usa");
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->kind, AccountKind::Admin);
  EXPECT_EQ(admin->attrs.roles, (std::vector<std::string>{"user", "admin", "super_admin"}));
  auto* bah = find(a, "contractor.bah");
  ASSERT_TRUE(bah);
  EXPECT_EQ(bah->attrs.organization_type, "INDUSTRY");
  EXPECT_EQ(bah->attrs.duty_org, "Booz Allen Hamilton");
}

TEST(SeedUsers, SpokesUseTheirCodeAndTheSpokeScriptsCois) {
  auto a = seed_accounts(seed(), "FRA", "France");
  ASSERT_TRUE(find(a, "testuser-fra-5"));
  EXPECT_EQ(find(a, "testuser-fra-5")->attrs.acp_coi, (std::vector<std::string>{"NATO-COSMIC", "FVEY"}));
  EXPECT_EQ(find(a, "testuser-fra-5")->attrs.country, "FRA");
  ASSERT_TRUE(find(a, "admin-fra"));
  EXPECT_EQ(find(a, "admin-fra")->attrs.roles, (std::vector<std::string>{"user", "admin", "super_admin"}));
  EXPECT_TRUE(find(a, "contractor.thales"));
  EXPECT_FALSE(find(a, "contractor.bah"));
  auto tst = seed_accounts(seed(), "TST", "Test");
  EXPECT_EQ(tst.size(), 6u) << "no industry user for a test code";
}
