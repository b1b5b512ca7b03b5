#pragma once
// The hash chain of the audit trail (docs/AUDIT.md). Writers hash their records with link_hash (the
// database stores them: migrations/instance/009_audit_chained.sql); audit_append() in
// migrations/instance/008_audit.sql computes the same in SQL (when a writer hashed from a stale head):
//
//   hash(n)      = SHA-256( hash(n-1) || SHA-256(canonical(n)) )   (raw 32-byte hashes; the anchor's first)
//   canonical(n) = "DIVE-AUDIT-1" then, for seq, at_ms, type, actor, actor_issuer, source_ip, service,
//                  resource, outcome, reason, request_id, details: <decimal byte length> ":" <bytes>
//
// Length prefixes make the encoding unambiguous (no field can pose as the next one). ChainVerifier walks
// records in seq order from the anchor and names the first broken link.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/event.hpp"

namespace dive::audit {

std::string canonical(int64_t seq, const Event& e);
// SHA-256(prev_hash || SHA-256(canonical(seq, e))), raw 32 bytes.
std::string link_hash(std::string_view prev_hash, int64_t seq, const Event& e);
// The anchor of a chain nothing was ever removed from: 32 zero bytes.
std::string genesis_hash();

// The end of the chain as a writer last saw it: the seq and hash of the last record (seq < 0: not known).
struct ChainHead {
  int64_t seq = -1;
  std::string hash;  // raw 32 bytes
  bool known() const { return seq >= 0; }
};

// A stored record: its seq, its fields and the two hashes (raw bytes).
struct Record {
  int64_t seq = 0;
  Event event;
  std::string prev_hash, hash;
};

// A head kept outside the database (a change log, a ticket, another machine), to prove later that the
// chain still reaches it: "SEQ:HEX", as `./dive audit verify` prints it and as the api's hourly checkpoint
// log line gives it (docs/AUDIT.md).
struct KeptHead {
  int64_t seq = 0;
  std::string hash;  // 32 bytes
};
// nullopt unless `text` is "<seq>:<64 hex digits>" with seq >= 0 (the hex in either case).
std::optional<KeptHead> parse_kept_head(std::string_view text);
std::string to_string(const KeptHead& k);  // "<seq>:<lower-case hex>"

class ChainVerifier {
 public:
  // The chain starts after (anchor_seq, anchor_hash): the last record removed by the retention, or (0,
  // genesis_hash()).
  ChainVerifier(int64_t anchor_seq, std::string anchor_hash);

  struct Break {
    int64_t seq = 0;    // the first record that does not verify (or that is missing)
    int64_t at_ms = 0;  // its time (for a missing record: the time of the next one present), 0 unknown
    std::string what;   // what differs, for the operator
  };

  // Feeds the next record (in seq order). Returns false once the chain is broken (then broken() says
  // where); records after a break are ignored.
  bool add(const Record& r);
  // After the last record: the head row must name the last record and its hash (a removed tail shows
  // here). Returns false when broken.
  bool finish(int64_t head_seq, std::string_view head_hash);

  const std::optional<Break>& broken() const { return break_; }
  int64_t records() const { return records_; }
  int64_t last_seq() const { return last_seq_; }
  const std::string& last_hash() const { return last_hash_; }

 private:
  int64_t last_seq_;
  std::string last_hash_;
  int64_t records_ = 0;
  std::optional<Break> break_;
};

}  // namespace dive::audit
