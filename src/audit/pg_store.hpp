#pragma once
// The SQL of the audit trail (tables and functions: migrations/instance/008_audit.sql,
// 009_audit_chained.sql, 010_audit_partitions.sql to 014_audit_blocks.sql). Records are stored as blocks
// (one row of arrays per append, since migration 014) after the rows of earlier versions (audit_events):
// every row's seq is below every block's, and every reader here reads both. Every call takes a transaction
// or connection the caller opened (services go through their PgPool). Filters reach SQL only as bind
// parameters: the statement is one of a fixed set of texts, chosen by which filters are present.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include "audit/chain.hpp"
#include "audit/filter.hpp"
#include "common/json.hpp"

namespace dive::audit {

// Appends the events (one chain, in order); returns the seq of the last record. The records are hashed
// here, from `head` (fetched first when not known), and handed with their hashes to audit_append_chained(),
// which takes the head row's lock and writes them as they are if the chain still ends at `head`; when
// another writer appended meanwhile, the database hashes them itself (one call appends either way). `head`
// is the new head afterwards (the caller's to forget if the transaction does not commit: a stale head only
// means the database hashes the next batch).
int64_t append(pqxx::transaction_base& tx, std::span<const Event> batch, ChainHead& head);
// The same from an unknown head (one more round trip): for a writer of a single batch (the CLI).
int64_t append(pqxx::transaction_base& tx, const std::vector<Event>& batch);

// The parameters of audit_append_chained() after the head: for each field (at_ms, type, actor,
// actor_issuer, source_ip, service, resource, outcome, reason, request_id, details), then the hashes, a
// one-dimensional array in PostgreSQL's binary format (array_send: no quoting, nothing for the server to
// parse but lengths). Exposed for tests.
std::vector<std::string> binary_arrays(std::span<const Event> batch, const std::vector<std::string>& hashes);
// The hash of each event when the chain ends at `head` (seq head.seq + 1 onwards): chain.hpp's link_hash.
std::vector<std::string> chain_hashes(const ChainHead& head, std::span<const Event> batch);

// The records matching `f`, newest first, at most f.limit.
std::vector<Record> query(pqxx::transaction_base& tx, const Filter& f);

// The ends of the chain: where it starts (the anchor: the last record the retention removed) and its head.
struct ChainEnds {
  int64_t anchor_seq = 0;
  std::string anchor_hash;
  int64_t removed = 0;  // records removed by the retention, in all
  int64_t head_seq = 0;
  std::string head_hash;
};
ChainEnds chain_ends(pqxx::transaction_base& tx);

// Every record from the anchor on, oldest first, `page` at a time, matching `f` (its limit and cursor are
// not used; nullptr: all), each handed to `each` (false: stop). Run in one REPEATABLE READ transaction for
// a consistent snapshot (verify() does).
void scan(pqxx::transaction_base& tx, const Filter* f, const std::function<bool(const Record&)>& each,
          int page = 5000);

// Whether the chain still reaches a kept head (verify()).
enum class KeptHeadCheck {
  Reached,    // the record at its seq (or the anchor) has its hash
  Rewritten,  // it has another hash: the chain was rewritten at or before that record
  Missing,    // the chain no longer reaches that seq (it ends before it)
  Pruned,     // the retention removed that record: nothing to compare (not a failure)
};
const char* to_string(KeptHeadCheck c);
struct KeptHeadResult {
  KeptHead kept;
  KeptHeadCheck check = KeptHeadCheck::Missing;
  std::string found_hash;  // the hash the chain has there now (Rewritten)
};

struct VerifyReport {
  ChainEnds ends;
  std::vector<KeptHeadResult> kept;  // one per kept head asked about, in order
  int64_t records = 0;
  std::optional<ChainVerifier::Break> broken;
  int64_t first_seq = 0, last_seq = 0;
  int64_t first_ms = 0, last_ms = 0;
  // False when a kept head was rewritten or is missing (a pruned one cannot be compared: not a failure).
  bool reaches_kept_heads() const;
};
// Walks the whole chain from the anchor in one consistent snapshot (its own read-only transaction on
// `conn`); `progress` is told the number of records checked every 100,000. In the same snapshot, checks
// that the chain still reaches each `kept` head: a chain rewritten with correct hashes from some record on
// verifies, but no longer reaches a head kept before the rewrite.
VerifyReport verify(pqxx::connection& conn, const std::function<void(int64_t)>& progress = {},
                    const std::vector<KeptHead>& kept = {});

// Retention: removes the records older than `retention_days`, oldest first, at most `chunk` in one
// transaction (audit_prune()): rows, then whole blocks (at least one, even when larger than `chunk`).
// Returns how many; 0: nothing older is left.
int64_t prune_step(pqxx::connection& conn, int retention_days, int chunk = 10000);
// prune_step until nothing older is left, then drop_pruned_partitions. Returns how many were removed.
int64_t prune(pqxx::connection& conn, int retention_days, int chunk = 10000);
// Drops the partitions the retention emptied (audit_drop_pruned(): waits at most 100 ms for the table's lock,
// else leaves them to the next prune). Returns how many it dropped.
int drop_pruned_partitions(pqxx::connection& conn);

// A record as JSON (hashes in hex, time also as ISO 8601): the shape of `./dive audit --json`, the export
// and GET /api/admin/audit.
Json to_json(const Record& r);
// CSV (RFC 4180): the header line, then one line per record, both ending in "\r\n".
std::string csv_header();
std::string to_csv(const Record& r);

}  // namespace dive::audit
