#include "audit/pg_store.hpp"

#include <algorithm>

#include <pqxx/pqxx>

#include "common/encoding.hpp"

namespace dive::audit {

namespace {

// Bind parameters as text (the server infers each one's type from where it stands).
using Params = std::vector<std::string>;

constexpr const char* kColumns =
    "seq, at_ms, type, actor, actor_issuer, source_ip, service, resource, outcome, reason, request_id, "
    "details, prev_hash, hash";

Record row_to_record(const pqxx::row& r) {
  Record out;
  out.seq = r[0].as<int64_t>();
  Event& e = out.event;
  e.at_ms = r[1].as<int64_t>();
  e.type = r[2].as<std::string>();
  e.actor = r[3].as<std::string>();
  e.actor_issuer = r[4].as<std::string>();
  e.source_ip = r[5].as<std::string>();
  e.service = r[6].as<std::string>();
  e.resource = r[7].as<std::string>();
  e.outcome = r[8].as<std::string>();
  e.reason = r[9].as<std::string>();
  e.request_id = r[10].as<std::string>();
  e.details = r[11].as<std::string>();
  out.prev_hash = pqxx::binarystring(r[12]).str();
  out.hash = pqxx::binarystring(r[13]).str();
  return out;
}

// The WHERE clause of a filter: fixed fragments, one numbered bind parameter each; values go to `params`.
// `rows`: for audit_events, whose sealed partitions are indexed by actor and resource (both conditions: a
// partition sealed since migration 013 has an index on (hashtext(actor), seq), one sealed before on (actor,
// seq); each answers from its own and checks the other on the rows it finds). Otherwise for the records
// unnested from blocks, which blocks_where_of chose.
std::string where_of(const Filter& f, Params& params, int& n, bool rows = true) {
  std::string w;
  auto add = [&](const std::string& fragment) {
    w += w.empty() ? " WHERE " : " AND ";
    w += fragment;
  };
  auto exact = [&](const char* column, const std::string& value) {
    ++n;
    const std::string p = "$" + std::to_string(n);
    add(rows ? std::string("hashtext(") + column + ") = hashtext(" + p + ") AND " + column + " = " + p
             : std::string(column) + " = " + p);
    params.push_back(value);
  };
  if (!f.actor.empty()) exact("actor", f.actor);
  if (!f.resource.empty()) exact("resource", f.resource);
  if (!f.type.empty()) {
    if (f.type_prefix) {
      // A prefix match without LIKE's wildcards in the value: left(type, length(prefix)) = prefix.
      add("left(type, length($" + std::to_string(n + 1) + ")) = $" + std::to_string(n + 1));
      ++n;
    } else {
      add("type = $" + std::to_string(++n));
    }
    params.push_back(f.type);
  }
  if (!f.outcome.empty()) {
    add("outcome = $" + std::to_string(++n));
    params.push_back(f.outcome);
  }
  if (f.since_ms) {
    add("at_ms >= $" + std::to_string(++n));
    params.push_back(std::to_string(*f.since_ms));
  }
  if (f.until_ms) {
    add("at_ms < $" + std::to_string(++n));
    params.push_back(std::to_string(*f.until_ms));
  }
  return w;
}

// The conditions on a block (migration 014) that may hold a record matching `f`, each " AND ...": the
// actor and resource through the arrays' GIN indexes, the type through the block's distinct types, the
// time through its earliest and latest. The outcome is only checked on the records.
std::string blocks_where_of(const Filter& f, Params& params, int& n) {
  std::string w;
  if (!f.actor.empty()) {
    w += " AND actor @> ARRAY[$" + std::to_string(++n) + "::text]";
    params.push_back(f.actor);
  }
  if (!f.resource.empty()) {
    w += " AND resource @> ARRAY[$" + std::to_string(++n) + "::text]";
    params.push_back(f.resource);
  }
  if (!f.type.empty()) {
    ++n;
    w += f.type_prefix ? " AND EXISTS (SELECT 1 FROM unnest(types) AS t WHERE left(t, length($" +
                             std::to_string(n) + "::text)) = $" + std::to_string(n) + "::text)"
                       : " AND types @> ARRAY[$" + std::to_string(n) + "::text]";
    params.push_back(f.type);
  }
  if (f.since_ms) {
    w += " AND at_hi >= $" + std::to_string(++n) + "::bigint";
    params.push_back(std::to_string(*f.since_ms));
  }
  if (f.until_ms) {
    w += " AND at_lo < $" + std::to_string(++n) + "::bigint";
    params.push_back(std::to_string(*f.until_ms));
  }
  return w;
}

// The records of the blocks whose lo is in $1 (a bigint[]), in the columns of kColumns; a record's
// prev_hash is the one before it in its block, or the block's prev_hash.
constexpr const char* kBlockRecords =
    "SELECT b.lo + u.i - 1 AS seq, u.at_ms, u.type, u.actor, u.actor_issuer, u.source_ip, u.service, "
    "u.resource, u.outcome, u.reason, u.request_id, u.details, u.prev_hash, u.hash FROM audit_blocks b "
    "CROSS JOIN LATERAL unnest(b.at_ms, b.type, b.actor, b.actor_issuer, b.source_ip, b.service, b.resource, "
    "b.outcome, b.reason, b.request_id, b.details, b.prev_hash || b.hash[1:b.hi - b.lo], b.hash) "
    "WITH ORDINALITY AS u(at_ms, type, actor, actor_issuer, source_ip, service, resource, outcome, reason, "
    "request_id, details, prev_hash, hash, i) WHERE b.lo = ANY($1::bigint[])";

// Blocks are read a few at a time: about this many records unnested a round trip.
constexpr int64_t kBlockBudget = 5000;

// The blocks after (ascending) or before (descending) `cursor` that may hold a record matching `f`, at most
// about `budget` records' worth (at least one block). Returns their lo as an array literal, and the cursor
// past them (the last block's hi ascending, its lo descending); nullopt when there are none.
struct BlockPage {
  std::string los;
  int64_t next = 0;
};
std::optional<BlockPage> next_blocks(pqxx::transaction_base& tx, const Filter* f, bool ascending,
                                     std::optional<int64_t> cursor, int64_t budget) {
  Params p;
  int n = 0;
  std::string sql = "SELECT lo, hi FROM audit_blocks WHERE true";
  if (cursor) {
    sql += ascending ? " AND lo > $" : " AND lo < $";
    sql += std::to_string(++n) + "::bigint";
    p.push_back(std::to_string(*cursor));
  }
  if (f) sql += blocks_where_of(*f, p, n);
  sql += ascending ? " ORDER BY lo LIMIT 256" : " ORDER BY lo DESC LIMIT 256";
  BlockPage page;
  int64_t records = 0;
  for (const auto& row : tx.exec_params(sql, pqxx::prepare::make_dynamic_params(p))) {
    const auto lo = row[0].as<int64_t>(), hi = row[1].as<int64_t>();
    page.los += (page.los.empty() ? "{" : ",") + std::to_string(lo);
    page.next = ascending ? hi : lo;
    records += hi - lo + 1;
    if (records >= budget) break;
  }
  if (page.los.empty()) return std::nullopt;
  page.los += "}";
  return page;
}

std::string hex_of(const std::string& raw) {
  return hex_encode(raw);
}

void csv_field(std::string& out, const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) {
    out += v;
    return;
  }
  out += '"';
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

namespace {

// PostgreSQL's binary format of a one-dimensional array without NULLs (array_send): ndim, has-null flag,
// element type, then size and lower bound of the dimension, then each element as a length and its bytes.
// Integers in network byte order.
class BinaryArray {
 public:
  // `bytes`: the elements' total size, so the array is allocated once.
  BinaryArray(uint32_t element_oid, size_t n, size_t bytes) {
    out_.reserve(20 + 4 * n + bytes);
    put32(1);
    put32(0);
    put32(element_oid);
    put32(static_cast<uint32_t>(n));
    put32(1);
  }
  void add(std::string_view v) {
    put32(static_cast<uint32_t>(v.size()));
    out_.append(v);
  }
  void add(int64_t v) {
    put32(8);
    put32(static_cast<uint32_t>(static_cast<uint64_t>(v) >> 32));
    put32(static_cast<uint32_t>(v));
  }
  std::string take() { return std::move(out_); }

 private:
  void put32(uint32_t v) {
    const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
    out_.append(b, 4);
  }
  std::string out_;
};

constexpr uint32_t kInt8Oid = 20, kTextOid = 25, kByteaOid = 17;

ChainHead fetch_head(pqxx::transaction_base& tx) {
  auto r = tx.exec1("SELECT seq, hash FROM audit_chain_head()");
  return ChainHead{r[0].as<int64_t>(), pqxx::binarystring(r[1]).str()};
}

}  // namespace

std::vector<std::string> binary_arrays(std::span<const Event> batch, const std::vector<std::string>& hashes) {
  const std::string Event::*fields[] = {
      &Event::type,     &Event::actor,   &Event::actor_issuer, &Event::source_ip,  &Event::service,
      &Event::resource, &Event::outcome, &Event::reason,       &Event::request_id, &Event::details};
  std::vector<std::string> out;
  out.reserve(12);
  BinaryArray at(kInt8Oid, batch.size(), 8 * batch.size());
  for (const auto& e : batch) at.add(e.at_ms);
  out.push_back(at.take());
  for (auto field : fields) {
    size_t bytes = 0;
    for (const auto& e : batch) bytes += (e.*field).size();
    BinaryArray a(kTextOid, batch.size(), bytes);
    for (const auto& e : batch) a.add(e.*field);
    out.push_back(a.take());
  }
  BinaryArray h(kByteaOid, hashes.size(), 32 * hashes.size());
  for (const auto& x : hashes) h.add(x);
  out.push_back(h.take());
  return out;
}

std::vector<std::string> chain_hashes(const ChainHead& head, std::span<const Event> batch) {
  std::vector<std::string> out;
  out.reserve(batch.size());
  const std::string* prev = &head.hash;
  for (size_t i = 0; i < batch.size(); ++i) {
    out.push_back(link_hash(*prev, head.seq + 1 + static_cast<int64_t>(i), batch[i]));
    prev = &out.back();
  }
  return out;
}

int64_t append(pqxx::transaction_base& tx, std::span<const Event> batch, ChainHead& head) {
  if (!head.known()) head = fetch_head(tx);
  if (batch.empty()) return head.seq;
  auto a = binary_arrays(batch, chain_hashes(head, batch));
  auto r = tx.exec_params1(
      "SELECT hashed_here, head_seq, head_hash FROM audit_append_chained($1::bigint, $2::bytea, "
      "$3::bigint[], "
      "$4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], "
      "$12::text[], $13::text[], $14::bytea[])",
      head.seq, pqxx::binarystring(head.hash), pqxx::binarystring(a[0]), pqxx::binarystring(a[1]),
      pqxx::binarystring(a[2]), pqxx::binarystring(a[3]), pqxx::binarystring(a[4]), pqxx::binarystring(a[5]),
      pqxx::binarystring(a[6]), pqxx::binarystring(a[7]), pqxx::binarystring(a[8]), pqxx::binarystring(a[9]),
      pqxx::binarystring(a[10]), pqxx::binarystring(a[11]));
  head = ChainHead{r[1].as<int64_t>(), pqxx::binarystring(r[2]).str()};
  return head.seq;
}

int64_t append(pqxx::transaction_base& tx, const std::vector<Event>& batch) {
  ChainHead head;
  return append(tx, batch, head);
}

std::vector<Record> query(pqxx::transaction_base& tx, const Filter& f) {
  std::vector<Record> out;
  if (f.limit <= 0) return out;
  // The blocks, newest first, a few at a time (every record in a block is newer than every row).
  std::optional<int64_t> cursor = f.before_seq;
  while (static_cast<int>(out.size()) < f.limit) {
    auto page = next_blocks(tx, &f, false, cursor, std::max<int64_t>(kBlockBudget, f.limit));
    if (!page) break;
    Params p{page->los};
    int n = 1;
    std::string where = where_of(f, p, n, false);
    if (cursor) {
      where += (where.empty() ? " WHERE seq < $" : " AND seq < $") + std::to_string(++n);
      p.push_back(std::to_string(*cursor));
    }
    std::string sql = std::string("SELECT * FROM (") + kBlockRecords + ") r" + where;
    sql += " ORDER BY seq DESC LIMIT $" + std::to_string(++n);
    p.push_back(std::to_string(f.limit - static_cast<int>(out.size())));
    for (const auto& row : tx.exec_params(sql, pqxx::prepare::make_dynamic_params(p)))
      out.push_back(row_to_record(row));
    cursor = page->next;
  }
  if (static_cast<int>(out.size()) >= f.limit) return out;
  // Then the rows written before migration 014.
  Params params;
  int n = 0;
  std::string sql = std::string("SELECT ") + kColumns + " FROM audit_events";
  std::string where = where_of(f, params, n);
  if (cursor) {
    where += where.empty() ? " WHERE " : " AND ";
    where += "seq < $" + std::to_string(++n);
    params.push_back(std::to_string(*cursor));
  }
  sql += where + " ORDER BY seq DESC LIMIT $" + std::to_string(++n);
  params.push_back(std::to_string(f.limit - static_cast<int>(out.size())));
  for (const auto& row : tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params)))
    out.push_back(row_to_record(row));
  return out;
}

ChainEnds chain_ends(pqxx::transaction_base& tx) {
  auto r =
      tx.exec1("SELECT a.seq, a.hash, a.removed, h.seq, h.hash FROM audit_anchor a CROSS JOIN audit_head h");
  ChainEnds e;
  e.anchor_seq = r[0].as<int64_t>();
  e.anchor_hash = pqxx::binarystring(r[1]).str();
  e.removed = r[2].as<int64_t>();
  e.head_seq = r[3].as<int64_t>();
  e.head_hash = pqxx::binarystring(r[4]).str();
  return e;
}

void scan(pqxx::transaction_base& tx, const Filter* f, const std::function<bool(const Record&)>& each,
          int page) {
  // The rows written before migration 014, then the blocks: every row's seq is lower than every block's.
  Filter none;
  Params base;
  int n = 0;
  const std::string where = where_of(f ? *f : none, base, n);
  const std::string sql = std::string("SELECT ") + kColumns + " FROM audit_events" +
                          (where.empty() ? " WHERE " : where + " AND ") + "seq > $" + std::to_string(n + 1) +
                          " ORDER BY seq LIMIT $" + std::to_string(n + 2);
  int64_t after = 0;
  while (true) {
    Params p = base;
    p.push_back(std::to_string(after));
    p.push_back(std::to_string(page));
    auto rows = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(p));
    for (const auto& row : rows) {
      Record r = row_to_record(row);
      after = r.seq;
      if (!each(r)) return;
    }
    if (static_cast<int>(rows.size()) < page) break;
  }
  Params bp;
  int bn = 1;
  const std::string block_sql = std::string("SELECT * FROM (") + kBlockRecords + ") r" +
                                where_of(f ? *f : none, bp, bn, false) + " ORDER BY seq";
  while (auto blocks = next_blocks(tx, f, true, after, std::max(page, 1))) {
    Params p{blocks->los};
    p.insert(p.end(), bp.begin(), bp.end());
    for (const auto& row : tx.exec_params(block_sql, pqxx::prepare::make_dynamic_params(p)))
      if (!each(row_to_record(row))) return;
    after = blocks->next;
  }
}

const char* to_string(KeptHeadCheck c) {
  switch (c) {
    case KeptHeadCheck::Reached:
      return "reached";
    case KeptHeadCheck::Rewritten:
      return "rewritten";
    case KeptHeadCheck::Missing:
      return "missing";
    case KeptHeadCheck::Pruned:
      return "pruned";
  }
  return "missing";
}

bool VerifyReport::reaches_kept_heads() const {
  for (const auto& r : kept)
    if (r.check == KeptHeadCheck::Rewritten || r.check == KeptHeadCheck::Missing) return false;
  return true;
}

namespace {

KeptHeadResult check_kept_head(pqxx::transaction_base& tx, const ChainEnds& ends, const KeptHead& k) {
  KeptHeadResult r{k, KeptHeadCheck::Missing, ""};
  if (k.seq < ends.anchor_seq) {
    r.check = KeptHeadCheck::Pruned;
    return r;
  }
  if (k.seq == ends.anchor_seq) {
    r.found_hash = ends.anchor_hash;
  } else if (k.seq <= ends.head_seq) {
    auto rows = tx.exec_params(
        "SELECT hash FROM audit_events WHERE seq = $1 UNION ALL "
        "SELECT b.hash[$1 - b.lo + 1] FROM (SELECT lo, hi, hash FROM audit_blocks WHERE lo <= $1 "
        "ORDER BY lo DESC LIMIT 1) b WHERE b.hi >= $1",
        k.seq);
    if (rows.empty() || rows[0][0].is_null()) return r;
    r.found_hash = pqxx::binarystring(rows[0][0]).str();
  } else {
    return r;
  }
  r.check = r.found_hash == k.hash ? KeptHeadCheck::Reached : KeptHeadCheck::Rewritten;
  return r;
}

}  // namespace

VerifyReport verify(pqxx::connection& conn, const std::function<void(int64_t)>& progress,
                    const std::vector<KeptHead>& kept) {
  pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only> tx(conn);
  VerifyReport rep;
  rep.ends = chain_ends(tx);
  ChainVerifier v(rep.ends.anchor_seq, rep.ends.anchor_hash);
  scan(tx, nullptr, [&](const Record& r) {
    if (!v.add(r)) return false;
    if (rep.records == 0) {
      rep.first_seq = r.seq;
      rep.first_ms = r.event.at_ms;
    }
    rep.last_seq = r.seq;
    rep.last_ms = r.event.at_ms;
    ++rep.records;
    if (progress && rep.records % 100000 == 0) progress(rep.records);
    return true;
  });
  v.finish(rep.ends.head_seq, rep.ends.head_hash);
  rep.broken = v.broken();
  for (const auto& k : kept) rep.kept.push_back(check_kept_head(tx, rep.ends, k));
  tx.commit();
  return rep;
}

int64_t prune_step(pqxx::connection& conn, int retention_days, int chunk) {
  pqxx::work tx(conn);
  auto n = tx.exec_params1("SELECT audit_prune($1, $2)", retention_days, chunk)[0].as<int64_t>();
  tx.commit();
  return n;
}

int64_t prune(pqxx::connection& conn, int retention_days, int chunk) {
  int64_t total = 0;
  while (true) {
    const int64_t n = prune_step(conn, retention_days, chunk);
    total += n;
    if (n == 0) break;  // blocks go whole: a step may remove fewer than `chunk` with more to come
  }
  drop_pruned_partitions(conn);
  return total;
}

int drop_pruned_partitions(pqxx::connection& conn) {
  pqxx::work tx(conn);
  const int n = tx.exec1("SELECT audit_drop_pruned()")[0].as<int>();
  tx.commit();
  return n;
}

Json to_json(const Record& r) {
  const Event& e = r.event;
  Json details;
  try {
    details = Json::parse(e.details);
  } catch (const std::exception&) {
    details = e.details;  // as stored
  }
  return Json{{"seq", r.seq},
              {"time", format_time(e.at_ms)},
              {"atMs", e.at_ms},
              {"type", e.type},
              {"actor", e.actor},
              {"actorIssuer", e.actor_issuer},
              {"sourceIp", e.source_ip},
              {"service", e.service},
              {"resource", e.resource},
              {"outcome", e.outcome},
              {"reason", e.reason},
              {"requestId", e.request_id},
              {"details", details},
              {"prevHash", hex_of(r.prev_hash)},
              {"hash", hex_of(r.hash)}};
}

std::string csv_header() {
  return "seq,time,at_ms,type,actor,actor_issuer,source_ip,service,resource,outcome,reason,request_id,"
         "details,"
         "prev_hash,hash\r\n";
}

std::string to_csv(const Record& r) {
  const Event& e = r.event;
  std::string out = std::to_string(r.seq) + "," + format_time(e.at_ms) + "," + std::to_string(e.at_ms);
  for (const std::string* f : {&e.type, &e.actor, &e.actor_issuer, &e.source_ip, &e.service, &e.resource,
                               &e.outcome, &e.reason, &e.request_id, &e.details}) {
    out += ',';
    csv_field(out, *f);
  }
  out += ',' + hex_of(r.prev_hash) + ',' + hex_of(r.hash) + "\r\n";
  return out;
}

}  // namespace dive::audit
