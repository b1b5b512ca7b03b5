// The audit trail's SQL (migrations/instance/008_audit.sql through audit/pg_store.hpp) on a PostgreSQL of
// the test's own: SQL and C++ compute the same hashes, concurrent writers form one chain, the tables are
// append-only, the retention keeps what remains verifiable, and queries filter with bind parameters only.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "audit/pg_store.hpp"
#include "audit_legacy.hpp"
#include "common/clock.hpp"
#include "servers.hpp"
#include "store/embedded_migrations.hpp"
#include "store/migrations.hpp"

using namespace dive;
using namespace dive::audit;

namespace {

class AuditStore : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pg_ = new dive::testing::TestPostgres(); }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = "a_";
    for (char c : std::string(info->name()))
      name += std::isalnum(static_cast<unsigned char>(c)) ? static_cast<char>(std::tolower(c)) : '_';
    conninfo_ = pg_->create_database(name.substr(0, 60));
    pqxx::connection c(conninfo_);
    store::apply_migrations(c, store::instance_migrations(), 0x0D1E0002);
  }
  pqxx::connection connect() const { return pqxx::connection(conninfo_); }

  static Event event(int i, const std::string& actor = "testuser-usa-1") {
    Event e;
    e.at_ms = Clock::system().unix_millis();
    e.type = i % 2 ? "access.read" : "auth.login";
    e.actor = actor;
    e.actor_issuer = "https://localhost:8443/realms/dive-v3-broker-usa";
    e.source_ip = "127.0.0.1";
    e.service = "api";
    e.resource = "doc-USA-" + std::to_string(i % 4);
    e.outcome = i % 3 ? kAllow : kDeny;
    e.reason = "réason ✓ " + std::to_string(i);  // multi-byte text: lengths are in bytes on both sides
    e.request_id = "r" + std::to_string(i);
    e.details = R"({"i":)" + std::to_string(i) + "}";
    return e;
  }
  void append_n(int n, const std::string& actor = "testuser-usa-1") {
    auto c = connect();
    std::vector<Event> batch;
    for (int i = 0; i < n; ++i) batch.push_back(event(i, actor));
    pqxx::nontransaction tx(c);
    append(tx, batch);
  }
  // Ten records, changed by a superuser past the trigger, then verified.
  VerifyReport tampered(const std::string& sql) {
    append_n(10);
    as_superuser(sql);
    auto c = connect();
    return verify(c);
  }
  void as_superuser(const std::string& sql) {
    auto c = connect();
    pqxx::work tx(c);
    tx.exec("SET LOCAL session_replication_role = replica");  // past the append-only trigger
    tx.exec(sql);
    tx.commit();
  }

  static dive::testing::TestPostgres* pg_;
  std::string conninfo_;
};
dive::testing::TestPostgres* AuditStore::pg_ = nullptr;

}  // namespace

TEST_F(AuditStore, SqlAndCppComputeTheSameChain) {
  append_n(7);
  auto c = connect();
  pqxx::nontransaction tx(c);
  std::string prev = genesis_hash();
  int n = 0;
  scan(tx, nullptr, [&](const Record& r) {
    EXPECT_EQ(r.seq, ++n);
    EXPECT_EQ(r.prev_hash, prev);
    EXPECT_EQ(r.hash, link_hash(prev, r.seq, r.event)) << "seq " << r.seq;
    EXPECT_EQ(r.event.reason, event(static_cast<int>(r.seq) - 1).reason);
    prev = r.hash;
    return true;
  });
  EXPECT_EQ(n, 7);
  auto ends = chain_ends(tx);
  EXPECT_EQ(ends.head_seq, 7);
  EXPECT_EQ(ends.head_hash, prev);
  EXPECT_EQ(ends.anchor_seq, 0);
}

TEST_F(AuditStore, AnEmptyBatchWritesNothing) {
  auto c = connect();
  pqxx::nontransaction tx(c);
  EXPECT_EQ(append(tx, {}), 0);
  EXPECT_EQ(
      tx.exec1("SELECT audit_append('{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')")[0]
          .as<int64_t>(),
      0);
  EXPECT_THROW(
      tx.exec("SELECT audit_append('{1}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}')"),
      pqxx::sql_error)
      << "arrays of different lengths";
  EXPECT_EQ(chain_ends(tx).head_seq, 0);
}

TEST_F(AuditStore, ConcurrentWritersFormOneChain) {
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w)
    writers.emplace_back([this, w] {
      auto c = connect();
      for (int b = 0; b < 25; ++b) {
        std::vector<Event> batch;
        for (int i = 0; i < 1 + (b % 7); ++i) batch.push_back(event(i, "writer-" + std::to_string(w)));
        pqxx::nontransaction tx(c);
        append(tx, batch);
      }
    });
  for (auto& t : writers) t.join();
  auto c = connect();
  auto rep = verify(c);
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  int expected = 0;
  for (int b = 0; b < 25; ++b) expected += 1 + (b % 7);
  EXPECT_EQ(rep.records, 4 * expected);
  EXPECT_EQ(rep.ends.head_seq, 4 * expected);
}

using dive::testing::append_with_sql_hashes;

TEST_F(AuditStore, AWriterWithAStaleHeadHashesAgainFromTheRealOne) {
  auto c = connect();
  ChainHead mine, theirs;  // two processes' writers, each remembering the head it last wrote
  for (int k = 0; k < 3; ++k) {
    pqxx::work tx(c);
    EXPECT_EQ(append(tx, {event(k)}, mine), 3 * k + 1);
    tx.commit();
    pqxx::work tx2(c);
    EXPECT_EQ(append(tx2, {event(k, "bob"), event(k + 1, "bob")}, theirs), 3 * k + 3)
        << "stale after the other's write: hashed by the database instead";
    tx2.commit();
  }
  auto rep = verify(c);
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  EXPECT_EQ(rep.records, rep.ends.head_seq);
}

TEST_F(AuditStore, RecordsOfThePreviousVersionAndOfThisOneFormOneChain) {
  auto c = connect();
  ChainHead head;
  for (int i = 0; i < 6; ++i) {
    pqxx::work tx(c);
    std::vector<Event> batch{event(i), event(i + 1)};
    if (i % 2) {
      append_with_sql_hashes(tx, batch);
    } else {
      append(tx, batch, head);
    }
    tx.commit();
  }
  auto rep = verify(c);
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  EXPECT_EQ(rep.records, 12);
}

TEST_F(AuditStore, TheChainedAppendKeepsTheShapeOfTheChain) {
  append_n(2);
  auto c = connect(), vc = connect();
  pqxx::nontransaction tx(c);
  const auto ends = chain_ends(tx);
  auto call = [&](int64_t after_seq, const std::string& after_hash, const std::vector<std::string>& hashes) {
    std::vector<Event> batch(hashes.size(), event(1));
    auto a = binary_arrays(batch, hashes);
    return tx.exec_params1(
        "SELECT hashed_here, head_seq FROM audit_append_chained($1::bigint, $2::bytea, $3::bigint[], "
        "$4::text[], "
        "$5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], "
        "$13::text[], $14::bytea[])",
        after_seq, pqxx::binarystring(after_hash), pqxx::binarystring(a[0]), pqxx::binarystring(a[1]),
        pqxx::binarystring(a[2]), pqxx::binarystring(a[3]), pqxx::binarystring(a[4]),
        pqxx::binarystring(a[5]), pqxx::binarystring(a[6]), pqxx::binarystring(a[7]),
        pqxx::binarystring(a[8]), pqxx::binarystring(a[9]), pqxx::binarystring(a[10]),
        pqxx::binarystring(a[11]));
  };
  EXPECT_THROW(call(2, ends.head_hash, {std::string(31, 'x')}), pqxx::sql_error) << "a hash of 31 bytes";
  EXPECT_EQ(chain_ends(tx).head_seq, 2);
  // Hashed from a head that is not the chain's: the database hashes the record itself.
  auto r = call(1, ends.head_hash, {std::string(32, 'x')});
  EXPECT_TRUE(r[0].as<bool>()) << "hashed here";
  EXPECT_EQ(r[1].as<int64_t>(), 3);
  r = call(3, std::string(32, '\0'), {std::string(32, 'x')});
  EXPECT_TRUE(r[0].as<bool>()) << "the right seq, not the head's hash: hashed here";
  EXPECT_FALSE(verify(vc).broken) << verify(vc).broken->what;
  // A writer that hashed from the head but stored a hash not of its record: written as it is (the database
  // does not hash what the writer hashed), and named by verify.
  const auto now = chain_ends(tx);
  r = call(now.head_seq, now.head_hash, {std::string(32, 'x')});
  EXPECT_FALSE(r[0].as<bool>());
  auto rep = verify(vc);
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 5);
  EXPECT_NE(rep.broken->what.find("does not match its hash"), std::string::npos) << rep.broken->what;
}

TEST_F(AuditStore, TheTrailIsAppendOnly) {
  append_n(3);
  auto c = connect();
  for (const char* sql : {"UPDATE audit_events SET reason = 'x' WHERE seq = 2",
                          "DELETE FROM audit_events WHERE seq = 1", "TRUNCATE audit_events"}) {
    pqxx::nontransaction tx(c);
    EXPECT_THROW(tx.exec(sql), pqxx::sql_error) << sql;
  }
  EXPECT_FALSE(verify(c).broken);
}

TEST_F(AuditStore, VerifyNamesAnEditedRecord) {
  auto rep = tampered("UPDATE audit_events SET outcome = 'allow', reason = 'nothing to see' WHERE seq = 6");
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 6);
  EXPECT_GT(rep.broken->at_ms, 0);
  EXPECT_EQ(rep.records, 5);
}

TEST_F(AuditStore, VerifyNamesADeletedRecord) {
  auto rep = tampered("DELETE FROM audit_events WHERE seq = 3");
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 3);
  EXPECT_NE(rep.broken->what.find("missing"), std::string::npos);
}

TEST_F(AuditStore, VerifyNamesARemovedTail) {
  auto rep = tampered("DELETE FROM audit_events WHERE seq > 8");
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 9);
}

TEST_F(AuditStore, AChainRewrittenWithCorrectHashesVerifiesButNoLongerReachesAKeptHead) {
  append_n(10);
  auto c = connect();
  const auto before = verify(c);
  ASSERT_FALSE(before.broken);
  const KeptHead kept{before.ends.head_seq, before.ends.head_hash};
  KeptHead early{4, ""};
  {
    pqxx::nontransaction tx(c);
    early.hash = pqxx::binarystring(tx.exec1("SELECT hash FROM audit_events WHERE seq = 4")[0]).str();
  }
  // A superuser removes records 6..10 and writes five others in their place, with correct hashes.
  as_superuser(
      "DELETE FROM audit_events WHERE seq > 5; "
      "UPDATE audit_head SET seq = 5, hash = (SELECT hash FROM audit_events WHERE seq = 5)");
  {
    std::vector<Event> forged;
    for (int i = 0; i < 5; ++i) forged.push_back(event(100 + i, "someone-else"));
    pqxx::nontransaction tx(c);
    append(tx, forged);
  }
  const KeptHead beyond{42, kept.hash};
  const KeptHead anchor{0, std::string(32, '\0')};
  auto rep = verify(c, {}, {kept, early, beyond, anchor});
  EXPECT_FALSE(rep.broken) << "the rewritten chain is consistent by itself";
  ASSERT_EQ(rep.kept.size(), 4u);
  EXPECT_EQ(rep.kept[0].check, KeptHeadCheck::Rewritten) << "the head kept before the rewrite";
  EXPECT_NE(rep.kept[0].found_hash, kept.hash);
  EXPECT_EQ(rep.kept[1].check, KeptHeadCheck::Reached) << "records before the rewrite are untouched";
  EXPECT_EQ(rep.kept[2].check, KeptHeadCheck::Missing) << "past the head";
  EXPECT_EQ(rep.kept[3].check, KeptHeadCheck::Reached) << "the anchor (genesis)";
  // After the retention removed a kept record there is nothing to compare.
  as_superuser(
      "UPDATE audit_anchor SET seq = 5, hash = (SELECT hash FROM audit_events WHERE seq = 5); "
      "DELETE FROM audit_events WHERE seq <= 5");
  rep = verify(c, {}, {early});
  EXPECT_FALSE(rep.broken);
  ASSERT_EQ(rep.kept.size(), 1u);
  EXPECT_EQ(rep.kept[0].check, KeptHeadCheck::Pruned);
}

TEST_F(AuditStore, TheRetentionRemovesAPrefixAndTheRestStillVerifies) {
  {
    auto c = connect();
    std::vector<Event> old;
    for (int i = 0; i < 5; ++i) {
      old.push_back(event(i));
      old.back().at_ms -= 40 * 86'400'000LL;  // written 40 days ago
    }
    pqxx::nontransaction tx(c);
    append(tx, old);
  }
  append_n(4);  // young records after them
  auto c = connect();
  ASSERT_FALSE(verify(c).broken);
  EXPECT_EQ(prune(c, 30, 2), 5) << "in chunks of 2";
  auto rep = verify(c);
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  EXPECT_EQ(rep.records, 4);
  EXPECT_EQ(rep.ends.anchor_seq, 5);
  EXPECT_EQ(rep.ends.removed, 5);
  EXPECT_EQ(rep.first_seq, 6);
  EXPECT_EQ(prune(c, 30), 0) << "nothing young is removed";
  pqxx::nontransaction tx(c);
  EXPECT_THROW(tx.exec("SELECT audit_prune(0)"), pqxx::sql_error);
}

TEST_F(AuditStore, QueriesFilterNewestFirstWithACursor) {
  append_n(12, "alice");
  append_n(6, "bob");
  auto c = connect();
  pqxx::nontransaction tx(c);
  Filter f;
  f.actor = "alice";
  f.limit = 5;
  auto page = query(tx, f);
  ASSERT_EQ(page.size(), 5u);
  EXPECT_EQ(page.front().seq, 12);
  EXPECT_EQ(page.back().seq, 8);
  f.before_seq = page.back().seq;
  auto next = query(tx, f);
  EXPECT_EQ(next.front().seq, 7);

  Filter t;
  t.type = "auth.";
  t.type_prefix = true;
  t.limit = 100;
  for (const auto& r : query(tx, t)) EXPECT_EQ(r.event.type, "auth.login");
  EXPECT_EQ(query(tx, t).size(), 9u);

  Filter o;
  o.outcome = "deny";
  o.resource = "doc-USA-0";
  o.limit = 100;
  for (const auto& r : query(tx, o)) {
    EXPECT_EQ(r.event.outcome, "deny");
    EXPECT_EQ(r.event.resource, "doc-USA-0");
  }

  Filter hostile;
  hostile.actor = "alice' OR '1'='1";
  hostile.type = "auth.%";
  hostile.type_prefix = true;
  EXPECT_TRUE(query(tx, hostile).empty()) << "values are bound, never spliced; % is no wildcard";

  Filter future;
  future.since_ms = Clock::system().unix_millis() + 3'600'000;
  EXPECT_TRUE(query(tx, future).empty());
}

TEST_F(AuditStore, RecordsAsJsonAndCsv) {
  append_n(2);
  auto c = connect();
  pqxx::nontransaction tx(c);
  Filter f;
  auto rows = query(tx, f);
  ASSERT_EQ(rows.size(), 2u);
  Json j = to_json(rows[0]);
  EXPECT_EQ(j["seq"], 2);
  EXPECT_EQ(j["details"]["i"], 1);
  EXPECT_EQ(j["hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(j["time"].get<std::string>().back(), 'Z');
  std::string line = to_csv(rows[0]);
  EXPECT_EQ(line.substr(0, 2), "2,");
  EXPECT_NE(line.find("\"{\"\"i\"\":1}\""), std::string::npos) << line;
  EXPECT_EQ(line.substr(line.size() - 2), "\r\n");
  EXPECT_EQ(csv_header().substr(0, 9), "seq,time,");
}
