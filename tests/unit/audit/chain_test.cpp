// The canonical encoding and the hash chain (audit/chain.hpp), and the verifier naming the first break.
#include <gtest/gtest.h>

#include "audit/chain.hpp"
#include "common/encoding.hpp"

using namespace dive;
using namespace dive::audit;

namespace {

Event sample(int i) {
  Event e;
  e.at_ms = 1'700'000'000'000 + i;
  e.type = "access.read";
  e.actor = "testuser-usa-" + std::to_string(i % 5);
  e.actor_issuer = "https://localhost:8443/realms/dive-v3-broker-usa";
  e.source_ip = "127.0.0.1";
  e.service = "api";
  e.resource = "doc-USA-" + std::to_string(i);
  e.outcome = kAllow;
  e.reason = "Access granted - all conditions satisfied";
  e.request_id = "req-" + std::to_string(i);
  e.details = R"({"classification":"SECRET","cached":true})";
  return e;
}

// A chain of n records from the genesis anchor, as audit_append() writes it.
std::vector<Record> chain_of(int n, int64_t first_seq = 1, std::string prev = genesis_hash()) {
  std::vector<Record> out;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.seq = first_seq + i;
    r.event = sample(i);
    r.prev_hash = prev;
    r.hash = link_hash(prev, r.seq, r.event);
    prev = r.hash;
    out.push_back(r);
  }
  return out;
}

ChainVerifier verified(const std::vector<Record>& records, int64_t anchor_seq = 0,
                       std::string anchor = genesis_hash()) {
  ChainVerifier v(anchor_seq, std::move(anchor));
  for (const auto& r : records)
    if (!v.add(r)) break;
  return v;
}

}  // namespace

TEST(AuditChain, CanonicalEncodingIsLengthPrefixedInAFixedOrder) {
  Event e;
  e.at_ms = 42;
  e.type = "auth.login";
  e.actor = "a:b";  // a separator inside a field cannot pose as the next field
  e.outcome = kSuccess;
  e.details = "{}";
  EXPECT_EQ(canonical(7, e), "DIVE-AUDIT-11:72:4210:auth.login3:a:b0:0:0:0:7:success0:0:2:{}");
}

TEST(AuditChain, EncodingsOfDifferentRecordsDiffer) {
  Event a = sample(1), b = sample(1);
  b.actor = a.actor + a.actor_issuer.substr(0, 1);
  b.actor_issuer = a.actor_issuer.substr(1);
  EXPECT_NE(canonical(1, a), canonical(1, b)) << "moving bytes between fields changes the encoding";
  EXPECT_NE(canonical(1, a), canonical(2, a)) << "the seq is part of it";
}

TEST(AuditChain, LinkHashIsSha256OfThePreviousHashAndTheRecordDigest) {
  Event e = sample(3);
  const std::string prev(32, '\x5a');
  EXPECT_EQ(link_hash(prev, 9, e), sha256(prev + sha256(canonical(9, e))));
  EXPECT_EQ(link_hash(prev, 9, e).size(), 32u);
  EXPECT_NE(link_hash(prev, 9, e), link_hash(genesis_hash(), 9, e));
  EXPECT_EQ(genesis_hash(), std::string(32, '\0'));
}

TEST(AuditChain, AnIntactChainVerifiesAndMatchesTheHead) {
  auto c = chain_of(50);
  auto v = verified(c);
  EXPECT_FALSE(v.broken());
  EXPECT_EQ(v.records(), 50);
  EXPECT_TRUE(v.finish(50, c.back().hash));
}

TEST(AuditChain, AnEditedRecordIsTheFirstBrokenLink) {
  auto c = chain_of(20);
  c[11].event.reason = "nothing to see";  // seq 12
  auto v = verified(c);
  ASSERT_TRUE(v.broken());
  EXPECT_EQ(v.broken()->seq, 12);
  EXPECT_EQ(v.broken()->at_ms, c[11].event.at_ms);
  EXPECT_NE(v.broken()->what.find("changed after it was written"), std::string::npos) << v.broken()->what;
  EXPECT_EQ(v.records(), 11);
  EXPECT_FALSE(v.finish(20, c.back().hash)) << "stays broken";
}

TEST(AuditChain, ADeletedRecordIsNamed) {
  auto c = chain_of(20);
  c.erase(c.begin() + 4);  // seq 5
  auto v = verified(c);
  ASSERT_TRUE(v.broken());
  EXPECT_EQ(v.broken()->seq, 5);
  EXPECT_NE(v.broken()->what.find("record 5 is missing"), std::string::npos) << v.broken()->what;
  c.erase(c.begin() + 4, c.begin() + 7);  // then 5..8 gone
  auto w = verified(c);
  ASSERT_TRUE(w.broken());
  EXPECT_NE(w.broken()->what.find("records 5..8 are missing"), std::string::npos) << w.broken()->what;
}

TEST(AuditChain, ARecordRewrittenWithAFreshHashBreaksTheNextLink) {
  auto c = chain_of(10);
  c[3].event.outcome = kDeny;
  c[3].hash = link_hash(c[3].prev_hash, c[3].seq, c[3].event);  // consistent on its own
  auto v = verified(c);
  ASSERT_TRUE(v.broken());
  EXPECT_EQ(v.broken()->seq, 5);
  EXPECT_NE(v.broken()->what.find("record 4 or its stored hash was rewritten"), std::string::npos)
      << v.broken()->what;
}

TEST(AuditChain, ARemovedTailShowsAgainstTheHead) {
  auto c = chain_of(10);
  const std::string head = c.back().hash;
  c.resize(7);
  auto v = verified(c);
  EXPECT_FALSE(v.broken());
  EXPECT_FALSE(v.finish(10, head));
  ASSERT_TRUE(v.broken());
  EXPECT_EQ(v.broken()->seq, 8);
  EXPECT_NE(v.broken()->what.find("records 8..10 are missing"), std::string::npos) << v.broken()->what;
}

TEST(AuditChain, AChainPrunedByTheRetentionVerifiesFromItsAnchor) {
  auto c = chain_of(30);
  const Record anchor = c[9];
  std::vector<Record> rest(c.begin() + 10, c.end());
  auto v = verified(rest, anchor.seq, anchor.hash);
  EXPECT_FALSE(v.broken());
  EXPECT_EQ(v.records(), 20);
  EXPECT_TRUE(v.finish(30, c.back().hash));
  auto wrong = verified(rest);  // from the genesis: record 1 is missing
  ASSERT_TRUE(wrong.broken());
  EXPECT_EQ(wrong.broken()->seq, 1);
}

TEST(AuditChain, AnEmptyChainMatchesOnlyItsAnchor) {
  ChainVerifier v(0, genesis_hash());
  EXPECT_TRUE(v.finish(0, genesis_hash()));
  ChainVerifier w(0, genesis_hash());
  EXPECT_FALSE(w.finish(3, std::string(32, '\1')));
}

TEST(AuditChain, AKeptHeadIsParsedFromWhatVerifyPrints) {
  const std::string hash = sha256("x");
  KeptHead k{1234, hash};
  const std::string text = to_string(k);
  EXPECT_EQ(text, "1234:" + hex_encode(hash));
  auto back = parse_kept_head(text);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->seq, 1234);
  EXPECT_EQ(back->hash, hash);
  std::string upper = text;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  ASSERT_TRUE(parse_kept_head(upper)) << "hex in either case";
  EXPECT_EQ(parse_kept_head(upper)->hash, hash);
  EXPECT_TRUE(parse_kept_head("0:" + hex_encode(std::string(32, '\0'))));
  for (const std::string& bad :
       {std::string(""), std::string("1234"), ":" + hex_encode(hash), "-1:" + hex_encode(hash),
        "12a:" + hex_encode(hash), "1234:" + hex_encode(hash).substr(2), "1234:" + hex_encode(hash) + "00",
        "1234:" + std::string(64, 'g'), "1234 :" + hex_encode(hash),
        "99999999999999999999:" + hex_encode(hash)})
    EXPECT_FALSE(parse_kept_head(bad)) << bad;
}
