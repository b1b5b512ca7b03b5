// The document store, KAS key pairs and seeding against a real PostgreSQL (migrations 005, 006).
#include <gtest/gtest.h>

#include "common/fs.hpp"

#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "common/encoding.hpp"
#include "common/random.hpp"
#include "documents/kas_keys.hpp"
#include "documents/resource_store.hpp"
#include "documents/seeder.hpp"
#include "servers.hpp"
#include "store/embedded_migrations.hpp"
#include "store/migrations.hpp"
#include "ztdf/encrypt.hpp"
#include "ztdf/key_access.hpp"
#include "ztdf/serialize.hpp"
#include "ztdf/validate.hpp"

using namespace dive;
using namespace dive::documents;

namespace {

Json seed_json() {
  return Json::parse(read_file(std::string(DIVE_DATA_DIR) + "/seed.json"));
}

std::string kek() {
  auto b = secure_random_bytes(32);
  return std::string(b.begin(), b.end());
}

class DocumentStore : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pg_ = std::make_unique<dive::testing::TestPostgres>(); }
  static void TearDownTestSuite() { pg_.reset(); }
  void SetUp() override {
    static int n = 0;
    conninfo_ = pg_->create_database("docs" + std::to_string(++n));
    conn_ = std::make_unique<pqxx::connection>(conninfo_);
    store::apply_migrations(*conn_, store::instance_migrations(), 1);
  }
  // 2048-bit keys keep the test quick; the service uses kKasKeyBits.
  KasKey key(const std::string& k) { return ensure_active_kas_key(*conn_, k, 2048); }

  static std::unique_ptr<dive::testing::TestPostgres> pg_;
  std::string conninfo_;
  std::unique_ptr<pqxx::connection> conn_;
};
std::unique_ptr<dive::testing::TestPostgres> DocumentStore::pg_;

}  // namespace

TEST_F(DocumentStore, KasKeyIsCreatedOnceEncryptedAtRestAndRotationKeepsTheOldOne) {
  std::string k = kek();
  KasKey a = key(k);
  EXPECT_EQ(a.kid.rfind("kas-", 0), 0u);
  EXPECT_EQ(key(k).kid, a.kid) << "the active key is reused";
  {
    pqxx::work tx(*conn_);
    auto enc = tx.exec("SELECT private_key_enc FROM kas_keys")[0][0].as<std::string>();
    EXPECT_EQ(enc.find("PRIVATE KEY"), std::string::npos) << "no private key in clear";
  }
  std::string b = rotate_kas_key(*conn_, k, 2048);
  EXPECT_NE(b, a.kid);
  auto all = load_kas_keys(*conn_, k, true);
  ASSERT_EQ(all.size(), 2u);
  std::set<std::string> kids{all[0].kid, all[1].kid};
  EXPECT_TRUE(kids.count(a.kid) && kids.count(b));
  for (const auto& x : all) {
    ASSERT_TRUE(x.private_key);
    EXPECT_EQ(x.active, x.kid == b);
  }
  EXPECT_EQ(key(k).kid, b);
  EXPECT_THROW(load_kas_keys(*conn_, kek(), true), std::runtime_error) << "a wrong key-encryption key";
  EXPECT_THROW(decode_key_encryption_key("short"), std::runtime_error);
}

TEST_F(DocumentStore, ConcurrentCreatorsAgreeOnOneActiveKey) {
  std::string k = kek();
  std::string kid1, kid2;
  std::thread t1([&] {
    pqxx::connection c(conninfo_);
    kid1 = ensure_active_kas_key(c, k, 2048).kid;
  });
  std::thread t2([&] {
    pqxx::connection c(conninfo_);
    kid2 = ensure_active_kas_key(c, k, 2048).kid;
  });
  t1.join();
  t2.join();
  EXPECT_EQ(kid1, kid2);
  pqxx::work tx(*conn_);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM kas_keys")[0][0].as<int>(), 1);
}

TEST_F(DocumentStore, SeedsRealZtdfObjectsThatDecryptAndReseedingTheSameValueAddsNothing) {
  std::string k = kek();
  KasKey kas = key(k);
  SeedPlan plan = SeedPlan::from_seed_json(seed_json(), "USA");
  SeedOptions o;
  o.count = 250;
  o.seed_random = 12345;
  o.batch_size = 40;  // several batches, the last one partial
  o.kas_url = "https://localhost:10000";
  std::vector<size_t> progress;
  o.progress = [&](size_t done, size_t total) {
    EXPECT_EQ(total, 250u);
    progress.push_back(done);
  };
  auto r = seed_documents(*conn_, plan, kas, o);
  EXPECT_EQ(r.generated, 250u);
  EXPECT_EQ(r.inserted, 250u);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), 250u);
  EXPECT_EQ(count_resources(*conn_), 250);
  EXPECT_EQ(count_resources(*conn_, "seed"), 250);

  // Every stored object is a valid ZTDF whose key the KAS private key opens, and its label is the plan's.
  auto keys = load_kas_keys(*conn_, k, true);
  for (int i : {1, 77, 250}) {
    DocumentSpec spec = plan.document(i, 12345);
    auto row = find_resource(*conn_, spec.resource_id);
    ASSERT_TRUE(row) << spec.resource_id;
    EXPECT_EQ(row->title, spec.title);
    EXPECT_EQ(row->kas_kid, kas.kid);
    ztdf::Object obj = ztdf::parse_object(row->ztdf);
    EXPECT_EQ(obj.policy.label.releasability_to, spec.label.releasability_to);
    EXPECT_EQ(row->label.releasability_to, spec.label.releasability_to) << "indexed columns = label";
    EXPECT_EQ(row->label.classification, spec.label.classification);
    EXPECT_EQ(row->label.display_marking, obj.policy.label.display_marking);
    ztdf::DataKey dk = ztdf::open_key_access(obj.policy, obj.key_access.at(0), *keys.at(0).private_key);
    EXPECT_EQ(ztdf::decrypt(obj, dk), spec.content);
    EXPECT_TRUE(ztdf::validate(obj, dk).ok());
  }
  EXPECT_FALSE(find_resource(*conn_, "doc-USA-nothing"));

  // Same seed value: every id exists, nothing is added or changed. Another value adds new documents.
  o.progress = nullptr;
  auto again = seed_documents(*conn_, plan, kas, o);
  EXPECT_EQ(again.generated, 250u);
  EXPECT_EQ(again.inserted, 0u);
  o.seed_random = 777;
  o.count = 10;
  EXPECT_EQ(seed_documents(*conn_, plan, kas, o).inserted, 10u);
  EXPECT_EQ(count_resources(*conn_), 260);
}

TEST_F(DocumentStore, ListPrefilterNeverHidesWhatTheCountryAndLevelAllowAndPagesWithoutGapsOrRepeats) {
  KasKey kas = key(kek());
  SeedPlan plan = SeedPlan::from_seed_json(seed_json(), "USA");
  SeedOptions o;
  o.count = 400;
  o.seed_random = 9;
  o.kas_url = "https://localhost:10000";
  seed_documents(*conn_, plan, kas, o);

  // The expected set from the plan itself: GBR in releasabilityTo and level ≤ SECRET.
  std::set<std::string> expected;
  for (int i = 1; i <= 400; ++i) {
    DocumentSpec d = plan.document(i, 9);
    bool rel = std::find(d.label.releasability_to.begin(), d.label.releasability_to.end(), "GBR") !=
               d.label.releasability_to.end();
    if (rel && d.label.classification <= ztdf::Classification::kSecret) expected.insert(d.resource_id);
  }
  ASSERT_GT(expected.size(), 20u);

  ListFilter f;
  f.country = "GBR";
  f.max_level = static_cast<int>(ztdf::Classification::kSecret);
  f.limit = 17;
  std::set<std::string> seen;
  int64_t last_seq = INT64_MAX;
  for (int page = 0; page < 100; ++page) {
    auto rows = list_resources(*conn_, f);
    for (const auto& r : rows) {
      EXPECT_LT(r.seq, last_seq) << "newest first";
      last_seq = r.seq;
      EXPECT_TRUE(seen.insert(r.resource_id).second) << "repeated " << r.resource_id;
      EXPECT_TRUE(r.ztdf.empty()) << "lists never carry the payload";
    }
    if (rows.size() < static_cast<size_t>(f.limit)) break;
    f.before_seq = rows.back().seq;
  }
  EXPECT_EQ(seen, expected);

  // Narrowing filters.
  ListFilter g;
  g.country = "USA";
  g.limit = 500;
  g.classification = static_cast<int>(ztdf::Classification::kTopSecret);
  for (const auto& r : list_resources(*conn_, g))
    EXPECT_EQ(r.label.classification, ztdf::Classification::kTopSecret);
  g.classification.reset();
  g.coi = "FVEY";
  auto fvey = list_resources(*conn_, g);
  ASSERT_FALSE(fvey.empty());
  for (const auto& r : fvey)
    EXPECT_NE(std::find(r.label.coi.begin(), r.label.coi.end(), "FVEY"), r.label.coi.end());
  g.coi.clear();
  g.query = plan.document(5, 9).title;
  auto by_title = list_resources(*conn_, g);
  bool usa_rel = false;
  for (const auto& c : plan.document(5, 9).label.releasability_to) usa_rel = usa_rel || c == "USA";
  if (usa_rel) {
    ASSERT_EQ(by_title.size(), 1u);
    EXPECT_EQ(by_title[0].resource_id, plan.document(5, 9).resource_id);
  }
  g.query = "'; DROP TABLE resources; --";
  EXPECT_TRUE(list_resources(*conn_, g).empty());
  EXPECT_EQ(count_resources(*conn_), 400) << "parameterised: the text is data";
}

TEST_F(DocumentStore, TheDatabaseKeepsTheHashOfEveryObjectsTextAndNothingCanMakeItDisagree) {
  // Rows stored before migration 006 get their hash when it is applied.
  std::string fresh = pg_->create_database("docshash");
  pqxx::connection old(fresh);
  std::vector<store::Migration> upto5;
  for (const auto& m : store::instance_migrations())
    if (m.version <= 5) upto5.push_back(m);
  store::apply_migrations(old, upto5, 1);
  std::string k = kek();
  SeedPlan plan = SeedPlan::from_seed_json(seed_json(), "USA");
  SeedOptions o;
  o.count = 5;
  o.seed_random = 99;
  o.kas_url = "https://localhost:10000";
  seed_documents(old, plan, ensure_active_kas_key(old, k, 2048), o);  // (its INSERT names no hash column)
  store::apply_migrations(old, store::instance_migrations(), 1);
  std::vector<std::string> ids;
  for (int i = 1; i <= 5; ++i) ids.push_back(plan.document(i, 99).resource_id);
  for (const auto& id : ids) {
    auto bare = find_resource(old, id, false);
    auto full = find_resource(old, id, true);
    ASSERT_TRUE(bare && full) << id;
    EXPECT_TRUE(bare->ztdf.empty());
    EXPECT_EQ(bare->ztdf_sha256, sha256_hex(full->ztdf)) << id;
    EXPECT_EQ(full->ztdf_sha256, bare->ztdf_sha256);
  }

  // Texts by id, in one query; unknown ids are simply absent.
  auto texts = find_ztdf_texts(old, {ids[0], ids[2], "doc-USA-nothing"});
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_EQ(sha256_hex(texts.at(ids[2])), find_resource(old, ids[2], false)->ztdf_sha256);
  EXPECT_TRUE(find_ztdf_texts(old, {}).empty());

  // New rows, a changed text, and a forged hash: the trigger always has the last word.
  seed_documents(*conn_, plan, key(k), o);
  pqxx::work tx(*conn_);
  tx.exec_params("UPDATE resources SET ztdf = ztdf || ' ' WHERE resource_id = $1", ids[0]);
  tx.exec_params("UPDATE resources SET ztdf_sha256 = 'forged' WHERE resource_id = $1", ids[1]);
  tx.commit();
  for (const auto& id : ids) {
    auto full = find_resource(*conn_, id, true);
    ASSERT_TRUE(full) << id;
    EXPECT_EQ(full->ztdf_sha256, sha256_hex(full->ztdf)) << id;
  }
}
