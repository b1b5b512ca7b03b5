#include "audit/chain.hpp"

#include "common/encoding.hpp"

namespace dive::audit {

namespace {
void field(std::string& out, std::string_view v) {
  out += std::to_string(v.size());
  out += ':';
  out += v;
}
std::string short_hex(std::string_view raw) {
  return hex_encode(raw).substr(0, 16);
}
std::string_view as_view(const Sha256::Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}
void canonical_into(std::string& out, int64_t seq, const Event& e) {
  out.clear();
  out.reserve(64 + e.type.size() + e.actor.size() + e.actor_issuer.size() + e.source_ip.size() +
              e.service.size() + e.resource.size() + e.outcome.size() + e.reason.size() +
              e.request_id.size() + e.details.size());
  out += "DIVE-AUDIT-1";
  field(out, std::to_string(seq));
  field(out, std::to_string(e.at_ms));
  for (const std::string* f : {&e.type, &e.actor, &e.actor_issuer, &e.source_ip, &e.service, &e.resource,
                               &e.outcome, &e.reason, &e.request_id, &e.details})
    field(out, *f);
}
}  // namespace

std::string canonical(int64_t seq, const Event& e) {
  std::string out;
  canonical_into(out, seq, e);
  return out;
}

std::string link_hash(std::string_view prev_hash, int64_t seq, const Event& e) {
  // One digest context and one canonical buffer per thread, reused: a writer hashes every record it sends
  // (two digests a record, each of which would otherwise allocate and free a context).
  thread_local Sha256 sha;
  thread_local std::string buf;
  canonical_into(buf, seq, e);
  const auto inner = sha.update(buf).finish();
  const auto outer = sha.update(prev_hash).update(as_view(inner)).finish();
  return std::string(as_view(outer));
}

std::string genesis_hash() {
  return std::string(32, '\0');
}

ChainVerifier::ChainVerifier(int64_t anchor_seq, std::string anchor_hash)
    : last_seq_(anchor_seq), last_hash_(std::move(anchor_hash)) {}

bool ChainVerifier::add(const Record& r) {
  if (break_) return false;
  const int64_t expected = last_seq_ + 1;
  if (r.seq != expected) {
    std::string what =
        r.seq > expected
            ? (r.seq - expected == 1 ? "record " + std::to_string(expected) + " is missing (deleted)"
                                     : "records " + std::to_string(expected) + ".." +
                                           std::to_string(r.seq - 1) + " are missing (deleted)") +
                  "; the next record present is " + std::to_string(r.seq)
            : "record " + std::to_string(r.seq) + " is out of order (expected " + std::to_string(expected) +
                  ")";
    break_ = Break{expected, r.event.at_ms, what};
    return false;
  }
  if (r.prev_hash != last_hash_) {
    break_ = Break{r.seq, r.event.at_ms,
                   "its prev_hash " + short_hex(r.prev_hash) + "… is not the hash of the record before it (" +
                       short_hex(last_hash_) + "…): record " + std::to_string(last_seq_) +
                       " or its stored hash was rewritten"};
    return false;
  }
  const std::string computed = link_hash(last_hash_, r.seq, r.event);
  if (computed != r.hash) {
    break_ = Break{r.seq, r.event.at_ms,
                   "its content does not match its hash (stored " + short_hex(r.hash) + "…, computed " +
                       short_hex(computed) + "…): the record was changed after it was written"};
    return false;
  }
  last_seq_ = r.seq;
  last_hash_ = r.hash;
  ++records_;
  return true;
}

bool ChainVerifier::finish(int64_t head_seq, std::string_view head_hash) {
  if (break_) return false;
  if (head_seq != last_seq_) {
    std::string what = head_seq > last_seq_
                           ? "the head names record " + std::to_string(head_seq) + " but the chain ends at " +
                                 std::to_string(last_seq_) + ": records " + std::to_string(last_seq_ + 1) +
                                 ".." + std::to_string(head_seq) + " are missing (deleted)"
                           : "the chain goes on to record " + std::to_string(last_seq_) + " past its head " +
                                 std::to_string(head_seq) +
                                 " (records were added outside the append functions)";
    break_ = Break{std::min(head_seq, last_seq_) + 1, 0, what};
    return false;
  }
  if (head_hash != last_hash_) {
    break_ = Break{last_seq_, 0,
                   "the head's hash " + short_hex(head_hash) + "… is not the hash of the last record (" +
                       short_hex(last_hash_) + "…)"};
    return false;
  }
  return true;
}

std::optional<KeptHead> parse_kept_head(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 18 || text.size() - colon - 1 != 64)
    return std::nullopt;
  KeptHead k;
  for (char c : text.substr(0, colon)) {
    if (c < '0' || c > '9') return std::nullopt;
    k.seq = k.seq * 10 + (c - '0');
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const std::string_view hex = text.substr(colon + 1);
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    k.hash.push_back(static_cast<char>(hi * 16 + lo));
  }
  return k;
}

std::string to_string(const KeptHead& k) {
  return std::to_string(k.seq) + ":" + hex_encode(k.hash);
}

}  // namespace dive::audit
