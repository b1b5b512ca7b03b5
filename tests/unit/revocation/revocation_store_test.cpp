// The write side with fake stores: pushed when the blacklist is up, kept in the outbox (and enforced
// locally at once) when it is down, flushed when it is back, nothing lost, never twice harmful.
#include <gtest/gtest.h>

#include "fakes.hpp"
#include "identity/revocation_mirror.hpp"
#include "identity/revocation_store.hpp"
#include "identity/revocation_sync.hpp"
#include "metrics/registry.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::testing;
using namespace std::chrono_literals;
using Outcome = RevocationStore::Outcome;

namespace {

class Store : public ::testing::Test {
 protected:
  FakeClock clock;
  metrics::Registry registry;
  FakeBlacklist blacklist;
  FakeOutbox outbox;
  RevocationMirror mirror{MirrorConfig{}, clock, &registry};
  RevocationStore store{blacklist, outbox, &mirror, clock, {.instance = "USA"}, &registry};
  int64_t t0 = clock.unix_millis();
  int64_t exp = t0 / 1000 + 900;
};
}  // namespace

TEST_F(Store, ARevocationIsPushedPublishedAndEnforcedHere) {
  EXPECT_EQ(store.submit_token("j1", exp), Outcome::Pushed);
  EXPECT_EQ(store.submit_user("alice", t0), Outcome::Pushed);
  ASSERT_EQ(blacklist.published.size(), 2u);
  EXPECT_EQ(blacklist.published[0], RevocationEvent::token("j1", exp, t0, "USA"));
  EXPECT_EQ(blacklist.published[1], RevocationEvent::user("alice", t0, t0, "USA"));
  EXPECT_TRUE(mirror.is_revoked("j1", "", 0));
  EXPECT_TRUE(mirror.is_revoked("x", "alice", t0 - 1));
  EXPECT_EQ(store.pending(), 0u);
  EXPECT_TRUE(outbox.rows.empty());
}

TEST_F(Store, TheRevokerInterfaceDoesTheSame) {
  Revoker& r = store;
  r.revoke_token("j1", exp);
  r.revoke_user("alice", t0);
  EXPECT_EQ(blacklist.keys.size(), 2u);
}

TEST_F(Store, WhileTheBlacklistIsDownRevocationsGoToTheOutboxAndAreEnforcedLocally) {
  blacklist.down = true;
  EXPECT_EQ(store.submit_user("alice", t0), Outcome::Queued);
  EXPECT_EQ(store.submit_token("j1", exp), Outcome::Queued);
  EXPECT_TRUE(mirror.is_revoked("x", "alice", t0 - 1));
  EXPECT_TRUE(mirror.is_revoked("j1", "", 0));
  EXPECT_EQ(outbox.rows.size(), 2u);
  EXPECT_EQ(store.pending(), 2u);
  EXPECT_EQ(store.flush(), 2u) << "still down: nothing lost";
  EXPECT_EQ(outbox.rows.size(), 2u);
  EXPECT_FALSE(store.status()["lastPushError"].is_null());

  blacklist.down = false;
  EXPECT_EQ(store.flush(), 0u);
  EXPECT_TRUE(outbox.rows.empty());
  ASSERT_EQ(blacklist.published.size(), 2u);
  EXPECT_EQ(blacklist.published[0].id, "alice") << "pushed in the order they were made";
  EXPECT_EQ(blacklist.published[0].revoked_at_ms, t0) << "with the original revocation time";
  EXPECT_TRUE(store.status()["lastPushError"].is_null());
  EXPECT_EQ(registry.gauge("dive_v3_revocation_outbox_pending", "").unlabelled().value(), 0);
}

TEST_F(Store, WithTheDatabaseDownTooTheRevocationIsHeldInMemoryThenMadeDurableThenPushed) {
  blacklist.down = true;
  outbox.down = true;
  EXPECT_EQ(store.submit_user("alice", t0), Outcome::Held);
  EXPECT_TRUE(mirror.is_revoked("x", "alice", t0 - 1));
  EXPECT_EQ(store.flush(), 1u);
  outbox.down = false;
  EXPECT_EQ(store.flush(), 1u);
  EXPECT_EQ(outbox.rows.size(), 1u) << "durable as soon as the database answers";
  EXPECT_EQ(store.status()["heldInMemory"], 0);
  blacklist.down = false;
  EXPECT_EQ(store.flush(), 0u);
  EXPECT_TRUE(outbox.rows.empty());
  EXPECT_EQ(blacklist.keys.count("user-revoked:alice"), 1u);
}

TEST_F(Store, RowsAnotherProcessOfThisInstanceQueuedAreEnforcedAndPushedByAFlush) {
  blacklist.down = true;
  outbox.add(RevocationEvent::user("bob", t0, t0, "USA"));  // written by the idp, say
  EXPECT_FALSE(mirror.is_revoked("x", "bob", t0 - 1));
  EXPECT_EQ(store.flush(), 1u);
  EXPECT_TRUE(mirror.is_revoked("x", "bob", t0 - 1));
  blacklist.down = false;
  EXPECT_EQ(store.flush(), 0u);
  EXPECT_EQ(blacklist.keys.count("user-revoked:bob"), 1u);
}

TEST_F(Store, AResyncBeforeTheFlushDoesNotForgetWhatIsStillPending) {
  blacklist.down = true;
  store.submit_user("alice", t0);
  clock.advance(5s);
  blacklist.down = false;  // back, but the flusher has not run yet
  resync_mirror(mirror, blacklist, &store, clock);
  EXPECT_TRUE(mirror.is_revoked("x", "alice", t0 - 1));
  store.flush();
  resync_mirror(mirror, blacklist, &store, clock);
  EXPECT_TRUE(mirror.is_revoked("x", "alice", t0 - 1));
}

TEST_F(Store, AResyncWhileTheBlacklistIsDownFailsAndTheMirrorAges) {
  blacklist.down = true;
  clock.advance(10s);
  EXPECT_THROW(resync_mirror(mirror, blacklist, &store, clock), std::runtime_error);
  EXPECT_EQ(mirror.age(), 10s);
  blacklist.down = false;
  resync_mirror(mirror, blacklist, &store, clock);
  EXPECT_EQ(mirror.age(), 0s);
}

TEST_F(Store, ABlacklistThatLostItsDataIsWrittenBackByTheNextResync) {
  store.submit_token("j1", exp);
  store.submit_user("alice", t0);
  store.submit_token("short", t0 / 1000 + 2);
  RevocationMirror other{MirrorConfig{}, clock, nullptr};  // another process, synchronised before the loss
  resync_mirror(other, blacklist, nullptr, clock);
  clock.advance(1500ms);
  blacklist.keys.clear();  // restarted without its append-only file
  blacklist.published.clear();

  auto r = resync_mirror(mirror, blacklist, &store, clock);
  EXPECT_EQ(r.missing, 2u) << "\"short\" ends within a second: not worth writing back";
  EXPECT_EQ(r.restored, 2u);
  EXPECT_TRUE(r.error.empty());
  EXPECT_EQ(blacklist.keys.count("blacklist:j1"), 1u);
  EXPECT_EQ(blacklist.keys.count("user-revoked:alice"), 1u);
  EXPECT_TRUE(mirror.is_revoked("j1", "", 0));
  EXPECT_TRUE(mirror.is_revoked("x", "alice", t0 - 1));
  // The other process finds nothing missing now, and a process that starts now learns it all.
  EXPECT_EQ(resync_mirror(other, blacklist, nullptr, clock).missing, 0u);
  RevocationMirror fresh{MirrorConfig{}, clock, nullptr};
  resync_mirror(fresh, blacklist, nullptr, clock);
  EXPECT_TRUE(fresh.is_revoked("j1", "", 0));
  EXPECT_TRUE(fresh.is_revoked("x", "alice", t0 - 1));
  EXPECT_EQ(resync_mirror(mirror, blacklist, &store, clock).missing, 0u);
}

TEST_F(Store, WritingBackStopsAtTheFirstFailureAndTheNextResyncFinishesIt) {
  struct Flaky final : public BlacklistBackend {
    FakeBlacklist& inner;
    int pushes_left;
    Flaky(FakeBlacklist& b, int n) : inner(b), pushes_left(n) {}
    void push(const RevocationEvent& e, Millis m) override {
      if (pushes_left-- <= 0) throw std::runtime_error("connection reset");
      inner.push(e, m);
    }
    std::vector<RevocationEvent> snapshot() override { return inner.snapshot(); }
  };
  store.submit_token("j1", exp);
  store.submit_token("j2", exp);
  store.submit_token("j3", exp);
  clock.advance(10ms);
  blacklist.keys.clear();
  Flaky flaky(blacklist, 1);
  auto r = resync_mirror(mirror, flaky, &store, clock);
  EXPECT_EQ(r.missing, 3u);
  EXPECT_EQ(r.restored, 1u);
  EXPECT_EQ(r.error, "connection reset");
  r = resync_mirror(mirror, blacklist, &store, clock);
  EXPECT_EQ(r.missing, 2u);
  EXPECT_EQ(r.restored, 2u);
  EXPECT_EQ(blacklist.keys.size(), 3u);
}

TEST_F(Store, PushingTwiceIsHarmless) {
  blacklist.down = true;
  store.submit_user("alice", t0);
  blacklist.down = false;
  outbox.remove_fails = true;  // pushed, but the row cannot be removed yet
  EXPECT_EQ(store.flush(), 1u);
  outbox.remove_fails = false;
  EXPECT_EQ(store.flush(), 0u);
  EXPECT_EQ(blacklist.published.size(), 2u);
  EXPECT_EQ(blacklist.keys.size(), 1u);
  EXPECT_EQ(blacklist.keys.at("user-revoked:alice").value, t0);
}

TEST_F(Store, AnExpiredTokenNeedsNoPushButIsStillRefusedHere) {
  EXPECT_EQ(store.submit_token("old", t0 / 1000 - 1), Outcome::Expired);
  EXPECT_TRUE(blacklist.published.empty());
  EXPECT_TRUE(outbox.rows.empty());
  EXPECT_TRUE(mirror.is_revoked("old", "", 0));
  // A queued one that expires before the blacklist is back is dropped by the flush.
  blacklist.down = true;
  store.submit_token("short", t0 / 1000 + 5);
  clock.advance(10s);
  blacklist.down = false;
  EXPECT_EQ(store.flush(), 0u);
  EXPECT_TRUE(outbox.rows.empty());
  EXPECT_TRUE(blacklist.published.empty());
}

TEST_F(Store, AnEmptyIdIsRefused) {
  EXPECT_THROW(store.submit_token("", exp), std::invalid_argument);
  EXPECT_THROW(store.submit_user("", t0), std::invalid_argument);
}

TEST_F(Store, OutcomesAreCounted) {
  store.submit_token("j1", exp);
  blacklist.down = true;
  store.submit_token("j2", exp);
  auto& fam = registry.counter("dive_v3_revocation_writes_total", "", {"outcome"});
  EXPECT_EQ(fam.labels({"pushed"}).value(), 1);
  EXPECT_EQ(fam.labels({"queued"}).value(), 1);
}

TEST(StoreWithoutMirror, AnIdpStyleStoreOnlyPushes) {
  FakeClock clock;
  FakeBlacklist blacklist;
  FakeOutbox outbox;
  RevocationStore store(blacklist, outbox, nullptr, clock, {.instance = "FRA"});
  EXPECT_EQ(store.submit_user("alice", 1), Outcome::Expired);
  EXPECT_EQ(store.submit_user("alice", clock.unix_millis()), Outcome::Pushed);
  EXPECT_EQ(blacklist.published.at(0).instance, "FRA");
}
