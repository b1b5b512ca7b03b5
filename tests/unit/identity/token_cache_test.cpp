// The validated-token cache: bounded, expiry-ordered eviction, expiry honoured.
#include "identity/token_cache.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "common/encoding.hpp"

using namespace dive;
using namespace dive::identity;

namespace {
std::shared_ptr<const VerifiedToken> tok(const std::string& sub) {
  auto t = std::make_shared<VerifiedToken>();
  t->subject = sub;
  return t;
}
std::string key(int i) {
  return sha256("token-" + std::to_string(i));
}
}  // namespace

TEST(TokenCache, FindsUntilValidUntilThenReportsExpired) {
  TokenCache c(100);
  c.insert(key(1), tok("a"), 1000, 900);
  EXPECT_EQ(c.find(key(1), 999).token->subject, "a");
  EXPECT_TRUE(c.find(key(1), 1000).token);
  auto gone = c.find(key(1), 1001);
  EXPECT_FALSE(gone.token);
  EXPECT_TRUE(gone.expired);
  EXPECT_EQ(c.size(), 0u);  // dropped
  auto miss = c.find(key(2), 1);
  EXPECT_FALSE(miss.token);
  EXPECT_FALSE(miss.expired);
  c.insert(key(3), tok("late"), 10, 11);  // already past: not stored
  EXPECT_EQ(c.size(), 0u);
}

TEST(TokenCache, BoundedEvictingExpiredThenSoonestToExpire) {
  TokenCache c(4, 1);  // one shard of 4
  c.insert(key(1), tok("1"), 100, 0);
  c.insert(key(2), tok("2"), 500, 0);
  c.insert(key(3), tok("3"), 300, 0);
  c.insert(key(4), tok("4"), 400, 0);
  c.insert(key(5), tok("5"), 600, 0);  // full: evicts 1 (soonest)
  EXPECT_EQ(c.size(), 4u);
  EXPECT_FALSE(c.find(key(1), 0).token);
  c.insert(key(6), tok("6"), 700, 350);  // 3 has expired at 350: it goes first, nothing else
  EXPECT_FALSE(c.find(key(3), 0).token);
  for (int i : {2, 4, 5, 6}) EXPECT_TRUE(c.find(key(i), 0).token) << i;
  c.insert(key(2), tok("2b"), 800, 0);  // re-insert replaces
  EXPECT_EQ(c.find(key(2), 0).token->subject, "2b");
  EXPECT_EQ(c.size(), 4u);
  c.clear();
  EXPECT_EQ(c.size(), 0u);
}

TEST(TokenCache, ConcurrentUse) {
  TokenCache c(1000);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        int k = (i * 7 + t) % 1500;
        if (i % 3 == 0) {
          c.insert(key(k), tok(std::to_string(k)), 1000 + k, 10);
        } else if (auto h = c.find(key(k), 10); h.token) {
          EXPECT_EQ(h.token->subject, std::to_string(k));
        }
      }
    });
  for (auto& t : ts) t.join();
  EXPECT_LE(c.size(), c.capacity());
}
