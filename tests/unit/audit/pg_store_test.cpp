// The audit trail's SQL (migrations/instance/008_audit.sql to 014, through audit/pg_store.hpp) on a
// PostgreSQL of the test's own: SQL and C++ compute the same hashes, concurrent writers form one chain, the
// tables are append-only, the retention keeps what remains verifiable (whole blocks), queries filter with
// bind parameters only and find blocks through their indexes. Records written as rows before migration 014
// and upgraded: pg_store_rows_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <pqxx/pqxx>
#include <thread>

#include "audit/pg_store.hpp"
#include "audit_legacy.hpp"
#include "audit_store_fixture.hpp"

using namespace dive;
using namespace dive::audit;
using dive::audit::testing::AuditStore;

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
    EXPECT_EQ(append(tx, std::vector<Event>{event(k)}, mine), 3 * k + 1);
    tx.commit();
    pqxx::work tx2(c);
    EXPECT_EQ(append(tx2, std::vector<Event>{event(k, "bob"), event(k + 1, "bob")}, theirs), 3 * k + 3)
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
  for (const char* sql :
       {"UPDATE audit_blocks SET reason[2] = 'x' WHERE lo = 1", "DELETE FROM audit_blocks WHERE lo = 1",
        "TRUNCATE audit_blocks", "TRUNCATE audit_events"}) {
    pqxx::nontransaction tx(c);
    EXPECT_THROW(tx.exec(sql), pqxx::sql_error) << sql;
  }
  EXPECT_FALSE(verify(c).broken);
}

TEST_F(AuditStore, VerifyNamesAnEditedRecord) {
  auto rep =
      tampered("UPDATE audit_blocks SET outcome[3] = 'allow', reason[3] = 'nothing to see' WHERE lo = 4");
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 6) << "the third record of the block from seq 4";
  EXPECT_GT(rep.broken->at_ms, 0);
  EXPECT_EQ(rep.records, 5);
}

TEST_F(AuditStore, VerifyNamesAnEditedHashOrLink) {
  auto rep = tampered("UPDATE audit_blocks SET hash[1] = sha256('forged') WHERE lo = 4");
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 4);
  as_superuser("DELETE FROM audit_blocks; UPDATE audit_head SET seq = 0, hash = '\\x" + std::string(64, '0') +
               "'");
  rep = tampered("UPDATE audit_blocks SET prev_hash = sha256('elsewhere') WHERE lo = 7");
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 7) << "a block that no longer follows the one before";
}

TEST_F(AuditStore, VerifyNamesADeletedRecord) {
  auto rep = tampered("DELETE FROM audit_blocks WHERE lo = 2");
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 2);
  EXPECT_NE(rep.broken->what.find("missing"), std::string::npos);
}

TEST_F(AuditStore, VerifyNamesARemovedTail) {
  auto rep = tampered("DELETE FROM audit_blocks WHERE lo = 7");
  ASSERT_TRUE(rep.broken);
  EXPECT_EQ(rep.broken->seq, 7);
}

TEST_F(AuditStore, AChainRewrittenWithCorrectHashesVerifiesButNoLongerReachesAKeptHead) {
  append_n(5);
  append_n(5);  // two blocks: 1-5, 6-10
  auto c = connect();
  const auto before = verify(c);
  ASSERT_FALSE(before.broken);
  const KeptHead kept{before.ends.head_seq, before.ends.head_hash};
  KeptHead early{4, ""};
  {
    pqxx::nontransaction tx(c);
    early.hash = pqxx::binarystring(tx.exec1("SELECT hash[4] FROM audit_blocks WHERE lo = 1")[0]).str();
  }
  // A superuser removes records 6..10 and writes five others in their place, with correct hashes.
  as_superuser(
      "DELETE FROM audit_blocks WHERE lo = 6; "
      "UPDATE audit_head SET seq = 5, hash = (SELECT hash[5] FROM audit_blocks WHERE lo = 1)");
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
      "UPDATE audit_anchor SET seq = 5, hash = (SELECT hash[5] FROM audit_blocks WHERE lo = 1); "
      "DELETE FROM audit_blocks WHERE lo = 1");
  rep = verify(c, {}, {early});
  EXPECT_FALSE(rep.broken);
  ASSERT_EQ(rep.kept.size(), 1u);
  EXPECT_EQ(rep.kept[0].check, KeptHeadCheck::Pruned);
}

TEST_F(AuditStore, TheRetentionRemovesAPrefixAndTheRestStillVerifies) {
  append_old(5);
  append_n(4);  // young records after them
  auto c = connect();
  ASSERT_FALSE(verify(c).broken);
  EXPECT_EQ(prune(c, 30, 2), 5) << "a block goes whole, whatever the chunk";
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

// Blocks (migrations/instance/014_audit_blocks.sql): one row per append, found for one actor, resource or
// type by the block's indexes and distinct types, read newest first across many blocks with a cursor.
TEST_F(AuditStore, EveryAppendIsOneBlockFoundByItsIndexes) {
  for (int b = 0; b < 30; ++b) {
    auto c = connect();
    std::vector<Event> batch;
    for (int i = 0; i < 100; ++i) {
      batch.push_back(event(i, "user-" + std::to_string(b % 3)));
      if (b == 17 && i == 50) {
        batch.back().actor = "rare-actor";
        batch.back().type = "admin.user_change";
      }
    }
    pqxx::nontransaction tx(c);
    append(tx, batch);
  }
  auto c = connect();
  pqxx::nontransaction tx(c);
  EXPECT_EQ(
      tx.exec1("SELECT count(*) || ' ' || min(lo) || ' ' || max(hi) || ' ' || "
               "(SELECT array_to_string(types, ',') FROM audit_blocks WHERE lo = 1701) FROM audit_blocks")[0]
          .as<std::string>(),
      "30 1 3000 access.read,admin.user_change,auth.login");
  EXPECT_EQ(tx.exec1("SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute WHERE attrelid = "
                     "'audit_blocks'::regclass AND attnum > 0 AND attstattarget <> 0")[0]
                .as<std::string>(),
            "at_hi,at_lo,hi,lo")
      << "no statistics on the arrays: an ANALYZE would detoast every block it samples";
  auto plan = [&](const std::string& where) {
    tx.exec("SET enable_seqscan = off");
    std::string out;
    for (const auto& row : tx.exec("EXPLAIN (COSTS OFF) SELECT lo FROM audit_blocks WHERE " + where))
      out += row[0].as<std::string>() + "\n";
    tx.exec("RESET enable_seqscan");
    return out;
  };
  EXPECT_NE(plan("actor @> ARRAY['rare-actor']").find("audit_blocks_actor"), std::string::npos);
  EXPECT_NE(plan("resource @> ARRAY['doc-USA-1']").find("audit_blocks_resource"), std::string::npos);

  Filter rare;
  rare.actor = "rare-actor";
  auto found = query(tx, rare);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].seq, 1751);
  EXPECT_EQ(found[0].event.type, "admin.user_change");
  Filter admin;
  admin.type = "admin.";
  admin.type_prefix = true;
  EXPECT_EQ(query(tx, admin).size(), 1u);

  // Newest first, page by page, across blocks: every record of user-1 once, in order.
  Filter one;
  one.actor = "user-1";
  one.limit = 7;
  std::vector<int64_t> seen;
  while (true) {
    auto page = query(tx, one);
    for (const auto& r : page) {
      EXPECT_EQ(r.event.actor, "user-1");
      seen.push_back(r.seq);
    }
    if (static_cast<int>(page.size()) < one.limit) break;
    one.before_seq = page.back().seq;
  }
  ASSERT_EQ(seen.size(), 1000u);
  EXPECT_EQ(seen.front(), 2900);
  EXPECT_EQ(seen.back(), 101);
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end());

  Filter recent;
  recent.until_ms = 1;  // nothing is that old
  EXPECT_TRUE(query(tx, recent).empty());
  Filter page;
  page.limit = 150;
  page.before_seq = 120;
  auto tail = query(tx, page);
  ASSERT_EQ(tail.size(), 119u);
  EXPECT_EQ(tail.front().seq, 119);
  EXPECT_EQ(tail.front().prev_hash, tail[1].hash) << "the link to the record before, within a block";
  EXPECT_EQ(tail[18].seq, 101);
  EXPECT_EQ(tail[18].prev_hash, tail[19].hash) << "and across blocks";
}

// A batch hashed by the database (a writer with a stale head, the CLI) stores NULL fields as before: 0, ''
// and '{}' for details, hashed as stored (the outcome has to be one of the four).
TEST_F(AuditStore, TheDatabasesOwnAppendFillsNullFields) {
  auto c = connect();
  {
    pqxx::nontransaction tx(c);
    EXPECT_EQ(tx.exec1("SELECT audit_append(ARRAY[1, NULL]::bigint[], '{access.read,NULL}', '{alice,NULL}', "
                       "'{i,NULL}', '{ip,NULL}', '{api,NULL}', '{r,NULL}', '{allow,deny}', '{x,NULL}', "
                       "'{q,NULL}', '{NULL,NULL}')")[0]
                  .as<int64_t>(),
              2);
    Filter all;
    auto rows = query(tx, all);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].event.at_ms, 0);
    EXPECT_EQ(rows[0].event.actor, "");
    EXPECT_EQ(rows[0].event.details, "{}");
    EXPECT_EQ(rows[1].event.details, "{}");
  }
  auto rep = verify(c);
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  EXPECT_EQ(rep.records, 2);
}

// The retention removes blocks whole: a block with one young record stays, with its old ones.
TEST_F(AuditStore, TheRetentionKeepsABlockWithAYoungRecord) {
  append_old(3);
  {
    auto c = connect();
    std::vector<Event> mixed{event(1), event(2)};
    mixed[0].at_ms -= 40 * 86'400'000LL;
    pqxx::nontransaction tx(c);
    append(tx, mixed);
  }
  append_old(2);  // old, but after a young record: not a prefix
  auto c = connect();
  EXPECT_EQ(prune(c, 30), 3);
  auto rep = verify(c);
  EXPECT_FALSE(rep.broken) << rep.broken->what;
  EXPECT_EQ(rep.ends.anchor_seq, 3);
  EXPECT_EQ(rep.records, 4);
  EXPECT_EQ(prune(c, 30), 0);
}
