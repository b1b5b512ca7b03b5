// The audit trail written as rows before migration 014 (010_audit_partitions.sql to 013: partitions of
// audit_events, sealed when full), on a PostgreSQL of the test's own: the partitions as that version kept
// them, then upgraded to blocks (014) and read, verified and pruned together with the blocks written after
// them; and an instance upgraded from migration 9 with records already written.
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "audit/pg_store.hpp"
#include "audit_store_fixture.hpp"

using namespace dive;
using namespace dive::audit;
using dive::audit::testing::AuditRows;
using dive::audit::testing::AuditStore;

// Partitions (migrations/instance/010_audit_partitions.sql, up to migration 013): records went into
// partitions of audit_layout.partition_rows attached ahead of the head by the head's trigger; audit_seal()
// built a full partition's actor and resource indexes. Migration 014 seals the open one, drops the one ahead
// and writes blocks from then on; queries, verify and the append-only guard work across all of them.
TEST_F(AuditRows, PartitionsAreAttachedAheadSealedWhenFullAndReadAcross) {
  smallest_partitions();
  // 25,000 records in batches of 5,000 (a writer's largest): each found its range already attached.
  for (int b = 0; b < 5; ++b) append_n(5000, b % 2 ? "alice" : "bob");
  auto c = connect();
  auto ranges = [&] {
    pqxx::nontransaction tx(c);
    std::vector<std::string> out;
    for (const auto& row : tx.exec("SELECT lo, hi, sealed_at IS NOT NULL FROM audit_partitions ORDER BY lo"))
      out.push_back(row[0].as<std::string>() + "-" + row[1].as<std::string>() +
                    (row[2].as<bool>() ? " sealed" : ""));
    return out;
  };
  EXPECT_EQ(ranges(), (std::vector<std::string>{"1-10001", "10001-20001", "20001-30001", "30001-40001"}))
      << "the open partition (20001-30001) and one ahead of it";

  {
    pqxx::connection other = connect();
    pqxx::work busy(other);
    busy.exec("SELECT pg_advisory_xact_lock(x'0D1EA5EA'::bigint)");
    EXPECT_EQ(seal(c), std::nullopt) << "another process is sealing";
  }
  EXPECT_EQ(seal(c), "audit_events_1");
  EXPECT_EQ(seal(c), "audit_events_10001");
  EXPECT_EQ(seal(c), std::nullopt) << "the open partition is not full";
  EXPECT_EQ(ranges(),
            (std::vector<std::string>{"1-10001 sealed", "10001-20001 sealed", "20001-30001", "30001-40001"}));
  // The actor and resource indexes a partition has (0 or 2).
  auto indexes = [&](const std::string& table) {
    pqxx::nontransaction tx(c);
    return tx
        .exec_params1("SELECT count(*) FROM pg_indexes WHERE tablename = $1 AND indexname IN ($2, $3)", table,
                      table + "_actor", table + "_resource")[0]
        .as<int>();
  };
  EXPECT_EQ(indexes("audit_events_10001"), 2);
  EXPECT_EQ(indexes("audit_events_20001"), 0) << "the open partition is written without them";

  upgrade();
  EXPECT_EQ(ranges(),
            (std::vector<std::string>{"1-10001 sealed", "10001-20001 sealed", "20001-25001 sealed"}))
      << "the open partition sealed and ending at the head, the empty one ahead dropped";
  append_n(100, "bob");  // a block: seq 25001 to 25100
  EXPECT_EQ(indexes("audit_events_20001"), 2);
  {
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM audit_events WHERE seq > 25000")[0].as<int>(), 0);

    // Newest first across the block and the partitions, by actor, resource and cursor.
    Filter bob;
    bob.actor = "bob";
    bob.limit = 3;
    auto newest = query(tx, bob);
    ASSERT_EQ(newest.size(), 3u);
    EXPECT_EQ(newest[0].seq, 25100);
    EXPECT_EQ(newest[2].seq, 25098);
    bob.limit = 102;
    EXPECT_EQ(query(tx, bob).back().seq, 24999) << "from the block into the rows";
    bob.limit = 3;
    bob.before_seq = 20001;
    EXPECT_EQ(query(tx, bob).at(0).seq, 15000) << "from the last partition into one sealed before";
    Filter alice;
    alice.actor = "alice";
    alice.limit = 1;
    EXPECT_EQ(query(tx, alice).at(0).seq, 20000);
    Filter doc;
    doc.resource = "doc-USA-1";
    doc.limit = 100000;
    auto touched = query(tx, doc);
    EXPECT_EQ(touched.size(), 6275u);
    EXPECT_TRUE(std::is_sorted(touched.begin(), touched.end(),
                               [](const Record& a, const Record& b) { return a.seq > b.seq; }));

    // Append-only in every partition, however it is addressed.
    for (const char* sql : {"UPDATE audit_events_10001 SET reason = 'x' WHERE seq = 10001",
                            "DELETE FROM audit_events_20001 WHERE seq = 20001", "TRUNCATE audit_events_1"}) {
      pqxx::connection own = connect();
      pqxx::nontransaction t(own);
      EXPECT_THROW(t.exec(sql), pqxx::sql_error) << sql;
    }
  }
  auto rep = verify(c);
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  EXPECT_EQ(rep.records, 25100);
}

// Migration 012: autovacuum leaves a partition alone while it fills (no vacuum, no analyze of a table that
// only grows); sealing analyzes it once, sampling only the columns queries filter on, and hands it back.
TEST_F(AuditRows, APartitionIsAnalyzedOnceWhenSealedAndLeftToAutovacuumOnlyThen) {
  smallest_partitions();
  append_n(10000);  // fills audit_events_1
  append_n(10);
  auto c = connect();
  auto state = [&](const std::string& table) {
    pqxx::nontransaction tx(c);
    auto r = tx.exec_params1(
        "SELECT coalesce(array_to_string(c.reloptions, ','), ''), c.reltuples::bigint, "
        "(SELECT string_agg(s.attname, ',' ORDER BY s.attname) FROM pg_stats s WHERE s.tablename = "
        "c.relname) "
        "FROM pg_class c WHERE c.relname = $1",
        table);
    return r[0].as<std::string>() + " | " + r[1].as<std::string>() + " | " +
           (r[2].is_null() ? std::string("no statistics") : r[2].as<std::string>());
  };
  EXPECT_EQ(state("audit_events_1"), "autovacuum_enabled=off | -1 | no statistics") << "full, not sealed";
  EXPECT_EQ(state("audit_events_10001"), "autovacuum_enabled=off | -1 | no statistics") << "the open one";
  EXPECT_EQ(state("audit_events_20001"), "autovacuum_enabled=off | -1 | no statistics") << "the one ahead";

  ASSERT_EQ(seal(c), "audit_events_1");
  EXPECT_EQ(state("audit_events_1"), " | 10000 | actor,at_ms,outcome,resource,seq,type")
      << "analyzed once, on the filtered columns only, and autovacuum's again";
  EXPECT_EQ(state("audit_events_10001"), "autovacuum_enabled=off | -1 | no statistics");
  {
    pqxx::nontransaction tx(c);
    EXPECT_EQ(
        tx.exec1("SELECT attstattarget FROM pg_attribute WHERE attrelid = 'audit_events_10001'::regclass "
                 "AND attname = 'details'")[0]
            .as<int>(),
        0);
  }
  upgrade();
  EXPECT_EQ(state("audit_events_10001"), " | 10 | actor,at_ms,outcome,resource,seq,type")
      << "the open partition, sealed by migration 014";
  Filter f;
  f.actor = "testuser-usa-1";
  f.limit = 20;
  pqxx::nontransaction tx(c);
  EXPECT_EQ(query(tx, f).back().seq, 9991) << "the newest 20 span the two partitions";
}

// Migration 013: a sealed partition is indexed by the hash of the actor and of the resource, and the queries
// reach those indexes (a regression to a scan of every sealed partition would go unnoticed otherwise: the
// answers would be the same).
TEST_F(AuditRows, ASealedPartitionAnswersForOneActorOrResourceFromItsHashIndexes) {
  smallest_partitions();
  {
    auto c = connect();
    std::vector<Event> batch;
    for (int i = 0; i < 10000; ++i) {
      batch.push_back(event(i, "user-" + std::to_string(i % 500)));
      batch.back().resource = i % 1000 == 7 ? "doc-USA-rare" : "doc-USA-" + std::to_string(i % 2000);
    }
    pqxx::nontransaction tx(c);
    append(tx, batch);
  }
  append_n(10, "user-7");
  auto c = connect();
  ASSERT_EQ(seal(c), "audit_events_1");
  upgrade();
  pqxx::nontransaction tx(c);
  EXPECT_EQ(
      tx.exec1("SELECT string_agg(indexdef, '; ' ORDER BY indexname) FROM pg_indexes "
               "WHERE indexname IN ('audit_events_1_actor', 'audit_events_1_resource')")[0]
          .as<std::string>(),
      "CREATE INDEX audit_events_1_actor ON public.audit_events_1 USING btree (hashtext(actor), seq); "
      "CREATE INDEX audit_events_1_resource ON public.audit_events_1 USING btree (hashtext(resource), seq) "
      "WHERE (resource <> ''::text)");
  auto plan = [&](const char* column, const std::string& value) {
    std::string out;
    for (const auto& row :
         tx.exec_params(std::string("EXPLAIN (COSTS OFF) SELECT seq FROM audit_events WHERE hashtext(") +
                            column + ") = hashtext($1) AND " + column + " = $1 ORDER BY seq DESC LIMIT 5",
                        value))
      out += row[0].as<std::string>() + "\n";
    return out;
  };
  EXPECT_NE(plan("actor", "user-7").find("audit_events_1_actor"), std::string::npos)
      << plan("actor", "user-7");
  EXPECT_NE(plan("resource", "doc-USA-rare").find("audit_events_1_resource"), std::string::npos)
      << plan("resource", "doc-USA-rare");

  Filter who;
  who.actor = "user-7";
  who.limit = 100;
  auto found = query(tx, who);
  ASSERT_EQ(found.size(), 30u) << "20 in the sealed partition, 10 in the open one";
  EXPECT_EQ(found.front().seq, 10010);
  EXPECT_EQ(found.back().seq, 8);
  Filter what;
  what.resource = "doc-USA-rare";
  what.limit = 100;
  EXPECT_EQ(query(tx, what).size(), 10u);
}

// An instance upgraded with records already written: the table as it was becomes the first partition
// (migration 010; sealed: it has its indexes), the chain goes on from the same head as rows (to 013), then
// as blocks (014), and verify walks all of it.
TEST_F(AuditStore, AnExistingTrailBecomesTheFirstPartitionThenBlocksFollow) {
  const std::string before = pg_->create_database("a_upgrade_with_records");
  auto up_to = [](int version) {
    std::vector<store::Migration> ms;
    for (const auto& m : store::instance_migrations())
      if (m.version <= version) ms.push_back(m);
    return ms;
  };
  ASSERT_EQ(up_to(9).size(), 9u);
  {
    pqxx::connection c(before);
    store::apply_migrations(c, up_to(9), 0x0D1E0002);
    std::vector<Event> batch;
    for (int i = 0; i < 30; ++i) batch.push_back(event(i));
    pqxx::nontransaction tx(c);
    append(tx, batch);
  }
  pqxx::connection c(before);
  store::apply_migrations(c, up_to(13), 0x0D1E0002);
  auto partitions = [&] {
    pqxx::nontransaction tx(c);
    return tx
        .exec1(
            "SELECT string_agg(relname || ' ' || lo || '-' || hi || "
            "CASE WHEN sealed_at IS NULL THEN '' ELSE ' sealed' END, ', ' ORDER BY lo) "
            "FROM audit_partitions")[0]
        .as<std::string>();
  };
  {
    EXPECT_EQ(partitions(), "audit_events_0 0-31 sealed, audit_events_31 31-500031");
    pqxx::nontransaction tx(c);
    EXPECT_EQ(
        tx.exec1(
              "SELECT string_agg(relname || ' ' || coalesce(array_to_string(reloptions, ','), '-'), "
              "', ' ORDER BY relname) FROM pg_class WHERE relname IN ('audit_events_0', 'audit_events_31')")
            [0]
                .as<std::string>(),
        "audit_events_0 -, audit_events_31 autovacuum_enabled=off")
        << "the partition attached by migration 010 and not sealed goes quiet with migration 012";
    std::vector<Event> more;
    for (int i = 0; i < 5; ++i) more.push_back(event(i, "before-blocks"));
    EXPECT_EQ(append(tx, more), 35);
  }
  store::apply_migrations(c, store::instance_migrations(), 0x0D1E0002);
  EXPECT_EQ(partitions(), "audit_events_0 0-31 sealed, audit_events_31 31-36 sealed");
  {
    pqxx::nontransaction tx(c);
    std::vector<Event> more;
    for (int i = 0; i < 5; ++i) more.push_back(event(i, "after-upgrade"));
    EXPECT_EQ(append(tx, more), 40);
    EXPECT_EQ(tx.exec1("SELECT lo || '-' || hi FROM audit_blocks")[0].as<std::string>(), "36-40");
    Filter f;
    f.limit = 100;
    auto all = query(tx, f);
    ASSERT_EQ(all.size(), 40u);
    EXPECT_EQ(all.front().event.actor, "after-upgrade");
    EXPECT_EQ(all[5].event.actor, "before-blocks");
    EXPECT_EQ(all.back().seq, 1);
    Filter one;
    one.actor = "testuser-usa-1";
    one.limit = 100;
    EXPECT_EQ(query(tx, one).size(), 30u) << "from the first partition, indexed by text before migration 013";
  }
  auto rep = verify(c);
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  EXPECT_EQ(rep.records, 40);
}

// The retention empties whole partitions over time: they are dropped (not left behind by the thousand), and
// goes on into the blocks after them; what remains still verifies from the anchor.
TEST_F(AuditRows, TheRetentionDropsThePartitionsItEmptiedAndGoesOnIntoBlocks) {
  smallest_partitions();
  for (int b = 0; b < 3; ++b) append_old(4000);  // rows: seq 1 to 12,000, in two partitions
  upgrade();
  append_old(3000);  // a block: 12,001 to 15,000
  append_n(100);     // young: 15,001 to 15,100
  auto c = connect();
  EXPECT_EQ(prune(c, 30), 15000);
  {
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT count(*) FROM audit_partitions")[0].as<int>(), 0)
        << "both partitions, emptied, are gone";
    EXPECT_TRUE(tx.exec1("SELECT to_regclass('audit_events_1') IS NULL")[0].as<bool>());
    EXPECT_EQ(tx.exec1("SELECT string_agg(lo::text, ',') FROM audit_blocks")[0].as<std::string>(), "15001");
  }
  EXPECT_EQ(drop_pruned_partitions(c), 0);
  auto rep = verify(c);
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  EXPECT_EQ(rep.records, 100);
  EXPECT_EQ(rep.first_seq, 15001);
  EXPECT_EQ(rep.ends.removed, 15000);
}
