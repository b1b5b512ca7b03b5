// Appending to the audit trail, per batch of access.read records as the api writes them:
//   WriterHashing        – what the writer does before it sends: sanitize, hash the chain, encode the binary
//                          arrays (CPU of the service process only)
//   AppendSqlHashes      – migration 008's audit_append(): array literals, the database hashes (the previous
//                          version's path)
//   AppendWriterHashes   – audit::append: the writer hashes, binary arrays, audit_append_chained(): one block
//                          (migration 014: one row of arrays, lz4, GIN on the actor and resource arrays)
//   AppendAsRows         – the same into migration 013's trail: a row per record in the open partition (no
//                          actor or resource index until SealPartition)
//   AppendUnnestInFrom   – the same, as migration 010 left audit_append_chained(): unnest(a, b, ...) in FROM
//                          (a tuplestore of the batch first) rather than one unnest per array in the select
//                          list
//   AppendBeforePartitions – the same append into migration 009's table, whose (actor, seq) and
//                          (resource, seq) B-trees take every record one at a time
//   AppendAsBlockPrototype – a prototype of another storage: the batch as one row of arrays (see there)
//   SealPartition        – audit_seal() of a full partition of 100,000 such records: both indexes built in
//                          one sort each, then one ANALYZE (per record: what sealing adds to the append);
//                          the text indexes of migration 012 against the hash indexes of 013
// The appends each run in a transaction with synchronous_commit off (as the sink writes), on a
// PostgreSQL of the benchmark's own started in a temporary folder (tests/support/servers.hpp), so the
// wall time per record is client + server work. Compare the two in one run: the machine is shared.
// Run: build/release/bench/audit/bench_audit --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "audit/chain.hpp"
#include "audit/pg_store.hpp"
#include "audit_legacy.hpp"
#include "common/clock.hpp"
#include "servers.hpp"
#include "store/embedded_migrations.hpp"
#include "store/migrations.hpp"

using namespace dive;
using namespace dive::audit;

namespace {

dive::testing::TestPostgres& server() {
  static auto pg = std::make_unique<dive::testing::TestPostgres>();
  return *pg;
}

// A database of the benchmark's server with the instance migrations up to `version` (0: all).
std::string migrated(const std::string& name, int version) {
  auto c = server().create_database(name);
  std::vector<store::Migration> ms;
  for (const auto& m : store::instance_migrations())
    if (version == 0 || m.version <= version) ms.push_back(m);
  pqxx::connection conn(c);
  store::apply_migrations(conn, ms, 0x0D1E0002);
  return c;
}
std::string database() {
  static const std::string conninfo = migrated("audit_bench", 0);
  return conninfo;
}
std::string database_before_blocks() {
  static const std::string conninfo = migrated("audit_bench_v13", 13);
  return conninfo;
}
std::string database_before_in_step() {
  static const std::string conninfo = migrated("audit_bench_v10", 10);
  return conninfo;
}
std::string database_before_partitions() {
  static const std::string conninfo = migrated("audit_bench_v9", 9);
  return conninfo;
}

// A batch of reads by one user over 300 documents, shaped like the api's records.
std::vector<Event> reads(size_t n) {
  std::vector<Event> out;
  const int64_t now = Clock::system().unix_millis();
  for (size_t i = 0; i < n; ++i) {
    Event e;
    e.at_ms = now + static_cast<int64_t>(i);
    e.type = "access.read";
    e.actor = "5f0c2a4e-1b7d-4c39-9a8e-2d6f1e0b7c55";
    e.actor_issuer = "https://localhost:8443/realms/dive-v3-broker-usa";
    e.source_ip = "127.0.0.1";
    e.service = "api";
    e.resource = "doc-usa-" + std::to_string(i % 300);
    e.outcome = kAllow;
    e.reason = "Access granted - all conditions satisfied";
    e.request_id = "r-" + std::to_string(1000000 + i) + "-7f3a9c";
    e.details = R"({"classification":"SECRET","cached":true})";
    out.push_back(std::move(e));
  }
  return out;
}

void WriterHashing(benchmark::State& state) {
  const auto batch = reads(static_cast<size_t>(state.range(0)));
  ChainHead head{41, std::string(32, '\x07')};
  for (auto _ : state) {
    auto copy = batch;
    for (auto& e : copy) sanitize(e);
    auto arrays = binary_arrays(copy, chain_hashes(head, copy));
    benchmark::DoNotOptimize(arrays);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(WriterHashing)->Arg(1000)->Unit(benchmark::kMicrosecond);

template <class Append>
void run_appends(benchmark::State& state, Append&& append_batch, const std::string& db = database()) {
  const auto batch = reads(static_cast<size_t>(state.range(0)));
  pqxx::connection conn(db);
  for (auto _ : state) {
    auto copy = batch;
    for (auto& e : copy) sanitize(e);
    pqxx::work tx(conn);
    tx.exec("SET LOCAL synchronous_commit = off");
    append_batch(tx, copy);
    tx.commit();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void AppendSqlHashes(benchmark::State& state) {
  run_appends(state, [](pqxx::work& tx, const std::vector<Event>& b) {
    dive::testing::append_with_sql_hashes(tx, b);
  });
}
BENCHMARK(AppendSqlHashes)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

void AppendWriterHashes(benchmark::State& state) {
  ChainHead head;
  run_appends(state, [&](pqxx::work& tx, const std::vector<Event>& b) { append(tx, b, head); });
}
BENCHMARK(AppendWriterHashes)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

void AppendAsRows(benchmark::State& state) {
  ChainHead head;
  run_appends(
      state, [&](pqxx::work& tx, const std::vector<Event>& b) { append(tx, b, head); },
      database_before_blocks());
}
BENCHMARK(AppendAsRows)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

void AppendUnnestInFrom(benchmark::State& state) {
  ChainHead head;
  run_appends(
      state, [&](pqxx::work& tx, const std::vector<Event>& b) { append(tx, b, head); },
      database_before_in_step());
}
BENCHMARK(AppendUnnestInFrom)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

void AppendBeforePartitions(benchmark::State& state) {
  ChainHead head;
  run_appends(
      state, [&](pqxx::work& tx, const std::vector<Event>& b) { append(tx, b, head); },
      database_before_partitions());
}
BENCHMARK(AppendBeforePartitions)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A prototype, not the schema: the same batch stored as ONE row (a block) holding an array per field, on a
// table of the benchmark's own with GIN indexes on the actor and resource arrays (what a query for one actor
// or one resource would use, maintained as blocks arrive: nothing to seal). The writer's work is the same
// as AppendWriterHashes' (sanitize, hash, binary arrays); only the storage differs. It measures the lever
// that docs/PERFORMANCE.md ("Audit trail", run 10) names next: per-row costs (heap tuple, primary key,
// BRIN, WAL, later the seal's index builds) paid once a block instead of once a record.
void AppendAsBlockPrototype(benchmark::State& state) {
  {
    pqxx::connection conn(database());
    pqxx::work tx(conn);
    tx.exec(
        "CREATE TABLE IF NOT EXISTS audit_block_prototype (lo bigint PRIMARY KEY, hi bigint NOT NULL, "
        "at_lo bigint NOT NULL, at_hi bigint NOT NULL, prev_hash bytea NOT NULL, at_ms bigint[] NOT NULL, "
        "type text[] NOT NULL, actor text[] NOT NULL, actor_issuer text[] NOT NULL, "
        "source_ip text[] NOT NULL, service text[] NOT NULL, resource text[] NOT NULL, "
        "outcome text[] NOT NULL, reason text[] NOT NULL, request_id text[] NOT NULL, "
        "details text[] NOT NULL, hash bytea[] NOT NULL); "
        "CREATE INDEX IF NOT EXISTS audit_block_prototype_actor ON audit_block_prototype USING gin (actor); "
        "CREATE INDEX IF NOT EXISTS audit_block_prototype_resource ON audit_block_prototype USING gin "
        "(resource); TRUNCATE audit_block_prototype");  // Google Benchmark calls this function more than once
    tx.commit();
  }
  ChainHead head{0, genesis_hash()};
  run_appends(state, [&](pqxx::work& tx, const std::vector<Event>& b) {
    auto hashes = chain_hashes(head, b);
    auto a = binary_arrays(b, hashes);
    // lz4 for the arrays (compressed by TOAST; pglz, the default, is several times slower).
    tx.exec("SET LOCAL default_toast_compression = lz4");
    tx.exec_params(
        "INSERT INTO audit_block_prototype VALUES ($1, $2, $3, $4, $5, $6::bigint[], $7::text[], $8::text[], "
        "$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], "
        "$16::text[], $17::bytea[])",
        head.seq + 1, head.seq + static_cast<int64_t>(b.size()), b.front().at_ms, b.back().at_ms,
        pqxx::binarystring(head.hash), pqxx::binarystring(a[0]), pqxx::binarystring(a[1]),
        pqxx::binarystring(a[2]), pqxx::binarystring(a[3]), pqxx::binarystring(a[4]),
        pqxx::binarystring(a[5]), pqxx::binarystring(a[6]), pqxx::binarystring(a[7]),
        pqxx::binarystring(a[8]), pqxx::binarystring(a[9]), pqxx::binarystring(a[10]),
        pqxx::binarystring(a[11]));
    head = ChainHead{head.seq + static_cast<int64_t>(b.size()), hashes.back()};
  });
}
BENCHMARK(AppendAsBlockPrototype)->Arg(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();

// One full partition of state.range(0) records, sealed again in every iteration (its indexes dropped and
// its stamp cleared outside the timing), by audit_seal() as migration state.range(1) left it (12: text
// indexes, 13: hash indexes).
void SealPartition(benchmark::State& state) {
  const int64_t rows = state.range(0);
  const int version = static_cast<int>(state.range(1));
  // Made once per version, whatever the repetitions: the partition audit_events_1 holding `rows` records.
  static std::map<int, std::string> dbs;
  if (!dbs.count(version)) {
    auto c = migrated("audit_bench_seal_v" + std::to_string(version), version);
    pqxx::connection conn(c);
    pqxx::work tx(conn);
    tx.exec(
        "DROP TABLE audit_events_1; DELETE FROM audit_partitions; UPDATE audit_layout SET partition_rows = " +
        std::to_string(rows) + "; SELECT audit_extend(0)");
    tx.commit();
    ChainHead head;
    for (int64_t n = 0; n < rows; n += 1000) {
      pqxx::work w(conn);
      append(w, reads(1000), head);
      w.commit();
    }
    dbs[version] = c;
  }
  pqxx::connection conn(dbs[version]);
  for (auto _ : state) {
    state.PauseTiming();
    {
      pqxx::work tx(conn);
      tx.exec(
          "DROP INDEX IF EXISTS audit_events_1_actor, audit_events_1_resource; "
          "UPDATE audit_partitions SET sealed_at = NULL WHERE relname = 'audit_events_1'");
      tx.commit();
    }
    state.ResumeTiming();
    pqxx::work tx(conn);
    const auto sealed = tx.exec1("SELECT audit_seal()")[0];
    if (sealed.is_null() || sealed.as<std::string>() != "audit_events_1")
      state.SkipWithError("nothing sealed");
    tx.commit();
  }
  state.SetItemsProcessed(state.iterations() * rows);
}
BENCHMARK(SealPartition)
    ->Args({100000, 12})
    ->Args({100000, 13})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
