// Bundles in an instance database (migration 002) against a real PostgreSQL.
#include "policy/bundle_store.hpp"

#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "policy/bundle.hpp"
#include "servers.hpp"
#include "store/embedded_migrations.hpp"
#include "store/migrations.hpp"

using namespace dive;
using namespace dive::policy;

TEST(BundleStore, StoresValidatesActivatesAndKeepsEveryRevision) {
  dive::testing::TestPostgres pg;
  pqxx::connection c(pg.create_database("dive"));
  store::apply_migrations(c, store::instance_migrations(), 1);
  EXPECT_EQ(active_bundle_revision(c), "");
  EXPECT_FALSE(load_active_bundle(c));

  Json a = deployment_bundle({{"USA", "United States", "https://localhost:8443/realms/dive-v3-broker-usa"}});
  std::string rev_a = store_bundle(c, a, "deployment", true);
  EXPECT_EQ(rev_a, parse_bundle(a)->revision);
  EXPECT_EQ(active_bundle_revision(c), rev_a);
  auto loaded = load_active_bundle(c);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->source, "deployment");
  EXPECT_EQ(parse_bundle(loaded->content)->revision, rev_a) << "the revision survives the JSONB round trip";
  EXPECT_EQ(
      parse_bundle(loaded->content)->issuer_tenant.at("https://localhost:8443/realms/dive-v3-broker-usa"),
      "USA");

  Json b = deployment_bundle({{"USA", "United States", "https://localhost:8443/realms/dive-v3-broker-usa"},
                              {"TST", "Test Instance", "https://localhost:8643/realms/dive-v3-broker-tst"}});
  std::string rev_b = store_bundle(c, b, "deployment", false);
  EXPECT_EQ(active_bundle_revision(c), rev_a) << "stored, not activated";
  store_bundle(c, b, "deployment", true);
  EXPECT_EQ(active_bundle_revision(c), rev_b);
  EXPECT_EQ(store_bundle(c, a, "again", true), rev_a) << "storing the same content twice is idempotent";

  // An invalid bundle never reaches the table.
  EXPECT_THROW(store_bundle(c, Json{{"trusted_issuers", 42}}, "bad", true), BundleError);
  EXPECT_EQ(active_bundle_revision(c), rev_a);
  pqxx::nontransaction tx(c);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM policy_bundles")[0][0].as<int>(), 2);
}
