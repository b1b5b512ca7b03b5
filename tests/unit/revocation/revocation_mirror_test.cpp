// The mirror's rules with a fake clock: jti until exp, user revocations only for tokens issued before,
// resync replacing the state, staleness, pruning and the metrics.
#include <gtest/gtest.h>

#include <map>

#include "identity/revocation.hpp"
#include "identity/revocation_mirror.hpp"
#include "metrics/registry.hpp"

using namespace dive;
using namespace dive::identity;
using namespace std::chrono_literals;

namespace {

class Mirror : public ::testing::Test {
 protected:
  FakeClock clock;
  metrics::Registry registry;
  MirrorConfig cfg{.max_staleness = 300s, .token_grace = 60s, .user_retention = 1230s, .recent_events = 8};
  RevocationMirror mirror{cfg, clock, &registry};
  int64_t t0 = clock.unix_millis();

  double counter(const std::string& kind, const std::string& source) {
    return registry.counter("dive_v3_revocations_total", "", {"kind", "source"})
        .labels({kind, source})
        .value();
  }
};
}  // namespace

TEST_F(Mirror, ARevokedJtiIsRejectedWhoeverAsksAndOtherTokensAreNot) {
  EXPECT_FALSE(mirror.is_revoked("j1", "alice", t0));
  EXPECT_TRUE(
      mirror.apply(RevocationEvent::token("j1", t0 / 1000 + 900, t0, "USA"), RevocationSource::Local));
  EXPECT_TRUE(mirror.is_revoked("j1", "alice", t0));
  EXPECT_TRUE(mirror.is_revoked("j1", "", 0));
  EXPECT_FALSE(mirror.is_revoked("j2", "alice", t0));
  EXPECT_FALSE(mirror.is_revoked("", "alice", t0));
  EXPECT_FALSE(
      mirror.apply(RevocationEvent::token("j1", t0 / 1000 + 900, t0, "USA"), RevocationSource::PubSub))
      << "the echo of our own revocation changes nothing";
  EXPECT_EQ(mirror.size(RevocationEvent::Kind::Token), 1u);
}

TEST_F(Mirror, AJtiStaysUntilItsExpiryPlusGraceThenIsPruned) {
  const int64_t exp = t0 / 1000 + 100;
  mirror.apply(RevocationEvent::token("j1", exp, t0, "USA"), RevocationSource::Local);
  clock.advance(100s + 59s);
  EXPECT_EQ(mirror.prune(), 0u);
  EXPECT_TRUE(mirror.is_revoked("j1", "", 0)) << "the validator still accepts it within its clock skew";
  clock.advance(2s);
  EXPECT_EQ(mirror.prune(), 1u);
  EXPECT_FALSE(mirror.is_revoked("j1", "", 0));
  EXPECT_EQ(mirror.size(RevocationEvent::Kind::Token), 0u);
}

TEST_F(Mirror, AUserRevocationRejectsOnlyTokensIssuedBeforeIt) {
  mirror.apply(RevocationEvent::user("alice", t0, t0, "USA"), RevocationSource::Local);
  EXPECT_TRUE(mirror.is_revoked("a", "alice", t0 - 1));
  EXPECT_TRUE(mirror.is_revoked("a", "alice", t0 - 600000));
  EXPECT_FALSE(mirror.is_revoked("b", "alice", t0)) << "issued at the threshold: a fresh login";
  EXPECT_FALSE(mirror.is_revoked("b", "alice", t0 + 1));
  EXPECT_FALSE(mirror.is_revoked("a", "bob", t0 - 1));
}

TEST_F(Mirror, IatMsMakesALoginInTheSameSecondAsTheLogoutWorkWhereIatAloneCannot) {
  const int64_t iat_s = t0 / 1000;
  const int64_t logout_ms = iat_s * 1000 + 300;  // logout 300 ms into the second
  mirror.apply(RevocationEvent::user("alice", logout_ms, logout_ms, "USA"), RevocationSource::Local);
  Json fresh{{"iat", iat_s}, {"iat_ms", iat_s * 1000 + 700}};  // logged in again 400 ms later
  Json old{{"iat", iat_s}, {"iat_ms", iat_s * 1000 + 100}};
  Json legacy{{"iat", iat_s}};  // no iat_ms: taken as the start of the second
  EXPECT_FALSE(mirror.is_revoked("f", "alice", issued_ms_of(fresh, iat_s)));
  EXPECT_TRUE(mirror.is_revoked("o", "alice", issued_ms_of(old, iat_s)));
  EXPECT_TRUE(mirror.is_revoked("l", "alice", issued_ms_of(legacy, iat_s)));
}

TEST_F(Mirror, TheLatestUserThresholdWinsWhateverTheOrder) {
  EXPECT_TRUE(mirror.apply(RevocationEvent::user("alice", t0 + 5000, t0, "USA"), RevocationSource::PubSub));
  EXPECT_FALSE(mirror.apply(RevocationEvent::user("alice", t0, t0, "FRA"), RevocationSource::PubSub));
  EXPECT_TRUE(mirror.is_revoked("x", "alice", t0 + 4000));
  EXPECT_TRUE(mirror.apply(RevocationEvent::user("alice", t0 + 9000, t0, "GBR"), RevocationSource::PubSub));
  EXPECT_TRUE(mirror.is_revoked("x", "alice", t0 + 8000));
}

TEST_F(Mirror, AUserEntryIsPrunedOnlyAfterEveryTokenBeforeItHasExpired) {
  mirror.apply(RevocationEvent::user("alice", t0, t0, "USA"), RevocationSource::Local);
  clock.advance(1230s);
  EXPECT_EQ(mirror.prune(), 0u);
  clock.advance(1s);
  EXPECT_EQ(mirror.prune(), 1u);
  EXPECT_EQ(mirror.size(RevocationEvent::Kind::User), 0u);
}

TEST_F(Mirror, AResyncAddsWhatWasMissedNeverUnrevokesAndReportsWhatTheStoreLost) {
  mirror.apply(RevocationEvent::token("lost", t0 / 1000 + 900, t0, "USA"), RevocationSource::PubSub);
  mirror.apply(RevocationEvent::user("alice", t0, t0, "USA"), RevocationSource::PubSub);
  mirror.apply(RevocationEvent::user("carol", t0 + 5, t0, "USA"), RevocationSource::PubSub);
  mirror.apply(RevocationEvent::token("ending", t0 / 1000 + 1, t0, "USA"), RevocationSource::PubSub);
  clock.advance(1s);
  const auto started = clock.now();
  clock.advance(10ms);
  // Arrives while the snapshot is being read, and is not in it (it may simply be newer than the snapshot).
  mirror.apply(RevocationEvent::token("during", t0 / 1000 + 900, t0, "FRA"), RevocationSource::PubSub);
  auto missing = mirror.reconcile(
      {RevocationEvent::token("kept", t0 / 1000 + 900, t0, "GBR"),
       RevocationEvent::user("bob", t0, t0, "GBR"), RevocationEvent::user("carol", t0, t0, "USA")},
      started);
  for (const char* jti : {"lost", "kept", "during"}) EXPECT_TRUE(mirror.is_revoked(jti, "", 0)) << jti;
  EXPECT_TRUE(mirror.is_revoked("x", "alice", t0 - 1)) << "the store losing an entry does not un-revoke it";
  EXPECT_TRUE(mirror.is_revoked("x", "bob", t0 - 1));
  EXPECT_TRUE(mirror.is_revoked("x", "carol", t0 + 4)) << "the larger threshold stays";
  EXPECT_EQ(mirror.size(RevocationEvent::Kind::Token), 4u);
  EXPECT_EQ(mirror.size(RevocationEvent::Kind::User), 3u);
  // What the store lacks, to be written back: not what arrived during the read, not what ends within a
  // second ("ending" expires 1 s after t0, and a second has passed), and a user at the larger threshold.
  std::map<std::string, RevocationEvent> by_id;
  for (const auto& e : missing) by_id.emplace(e.id, e);
  ASSERT_EQ(by_id.size(), 3u) << ::testing::PrintToString(missing.size());
  EXPECT_EQ(by_id.at("lost").kind, RevocationEvent::Kind::Token);
  EXPECT_EQ(by_id.at("lost").value, t0 / 1000 + 900);
  EXPECT_EQ(by_id.at("alice").value, t0);
  EXPECT_EQ(by_id.at("carol").value, t0 + 5);
  EXPECT_EQ(by_id.at("carol").revoked_at_ms, t0);
  // Once written back, nothing is missing any more.
  EXPECT_TRUE(
      mirror
          .reconcile({RevocationEvent::token("kept", t0 / 1000 + 900, t0, "GBR"),
                      RevocationEvent::token("lost", t0 / 1000 + 900, t0, ""),
                      RevocationEvent::token("during", t0 / 1000 + 900, t0, "FRA"),
                      RevocationEvent::user("alice", t0, t0, ""), RevocationEvent::user("bob", t0, t0, "GBR"),
                      RevocationEvent::user("carol", t0 + 5, t0, "")},
                     clock.now())
          .empty());
}

TEST_F(Mirror, TheFirstLoadIsNotPropagationButWhatAResyncFindsLaterIs) {
  mirror.reconcile({RevocationEvent::token("old", t0 / 1000 + 900, t0 - 3600000, "USA")}, clock.now());
  auto& prop = registry.histogram("dive_v3_revocation_propagation_seconds", "", {}, {}).unlabelled();
  EXPECT_EQ(prop.count(), 0u);
  EXPECT_EQ(counter("token", "resync"), 1);
  clock.advance(2s);
  mirror.reconcile({RevocationEvent::token("old", t0 / 1000 + 900, t0 - 3600000, "USA"),
                    RevocationEvent::token("missed", t0 / 1000 + 900, t0, "FRA")},
                   clock.now());
  EXPECT_EQ(prop.count(), 1u);
  EXPECT_DOUBLE_EQ(prop.sum(), 2.0);
  EXPECT_EQ(counter("token", "resync"), 2);
  Json st = mirror.status();
  EXPECT_EQ(st["lastEvent"]["ref"], revocation_ref("missed"));
  EXPECT_EQ(st["lastEvent"]["source"], "resync");
  EXPECT_EQ(st["lastEvent"]["propagationMs"], 2000);
}

TEST_F(Mirror, ASubscribedEventMeasuresItsPropagationAndCounts) {
  clock.advance(250ms);
  mirror.apply(RevocationEvent::user("alice", t0, t0, "FRA"), RevocationSource::PubSub);
  auto& prop = registry.histogram("dive_v3_revocation_propagation_seconds", "", {}, {}).unlabelled();
  EXPECT_EQ(prop.count(), 1u);
  EXPECT_DOUBLE_EQ(prop.sum(), 0.25);
  EXPECT_EQ(counter("user", "pubsub"), 1);
  EXPECT_EQ(counter("user", "local"), 0);
  mirror.apply(RevocationEvent::token("j", t0 / 1000 + 900, clock.unix_millis(), "USA"),
               RevocationSource::Local);
  EXPECT_EQ(prop.count(), 1u) << "our own revocations did not travel";
  EXPECT_EQ(counter("token", "local"), 1);
  Json st = mirror.status();
  EXPECT_EQ(st["tokens"], 1);
  EXPECT_EQ(st["users"], 1);
  ASSERT_EQ(st["recentEvents"].size(), 2u);
  EXPECT_EQ(st["recentEvents"][0]["ref"], revocation_ref("alice"));
  EXPECT_EQ(st["recentEvents"][0]["kind"], "user");
  EXPECT_EQ(st.dump().find("alice"), std::string::npos) << "no ids in the public status";
  EXPECT_EQ(st["recentEvents"][0]["propagationMs"], 250);
  EXPECT_EQ(st["recentEvents"][0]["instance"], "FRA");
  auto text = registry.expose();
  EXPECT_NE(text.find("dive_v3_revocation_mirror_size{kind=\"token\"} 1"), std::string::npos) << text;
}

TEST_F(Mirror, ANeverSynchronisedMirrorIsStaleEvenWithEvents) {
  EXPECT_TRUE(mirror.stale()) << "it knows nothing of what was revoked before it started";
  EXPECT_FALSE(mirror.status()["syncedOnce"].get<bool>());
  mirror.apply(RevocationEvent::token("k", t0 / 1000 + 9000, t0, "FRA"), RevocationSource::PubSub);
  EXPECT_TRUE(mirror.stale()) << "one event says nothing of the earlier ones";
  mirror.reconcile({}, clock.now());
  EXPECT_FALSE(mirror.stale());
}

TEST_F(Mirror, ItGoesStaleWithoutSyncOrEventsAndRecoversOnEither) {
  mirror.reconcile({}, clock.now());
  EXPECT_FALSE(mirror.stale());
  clock.advance(300s);
  EXPECT_FALSE(mirror.stale()) << "stale only beyond max_staleness";
  clock.advance(1s);
  EXPECT_TRUE(mirror.stale());
  mirror.apply(RevocationEvent::token("j", t0 / 1000 + 9000, t0, "USA"), RevocationSource::Local);
  EXPECT_TRUE(mirror.stale()) << "our own revocation says nothing about the shared store";
  mirror.apply(RevocationEvent::token("k", t0 / 1000 + 9000, t0, "FRA"), RevocationSource::PubSub);
  EXPECT_FALSE(mirror.stale());
  EXPECT_EQ(mirror.age(), 0ms);
  clock.advance(301s);
  EXPECT_TRUE(mirror.stale());
  EXPECT_TRUE(mirror.status()["stale"].get<bool>());
  mirror.reconcile({}, clock.now());
  EXPECT_FALSE(mirror.stale());
  clock.advance(12s);
  mirror.update_gauges();
  EXPECT_DOUBLE_EQ(registry.gauge("dive_v3_revocation_mirror_age_seconds", "").unlabelled().value(), 12.0);
  // The limit beside the age, so that an alert can compare them (RevocationMirrorStale, ...FailingClosed).
  EXPECT_DOUBLE_EQ(registry.gauge("dive_v3_revocation_mirror_max_staleness_seconds", "").unlabelled().value(),
                   300.0);
}

TEST_F(Mirror, RecentEventsAreBounded) {
  for (int i = 0; i < 20; ++i)
    mirror.apply(RevocationEvent::token("j" + std::to_string(i), t0 / 1000 + 900, t0, "USA"),
                 RevocationSource::PubSub);
  Json st = mirror.status();
  EXPECT_EQ(st["recentEvents"].size(), 8u);
  EXPECT_EQ(st["lastEvent"]["ref"], revocation_ref("j19"));
}

TEST_F(Mirror, ARestoredCopyEnforcesWhatWasKnownAndCountsAgeFromItsLastSync) {
  mirror.reconcile({RevocationEvent::user("alice", t0 - 10, t0 - 10, "FRA")}, clock.now());
  mirror.apply(RevocationEvent::token("j1", t0 / 1000 + 900, t0, "USA"), RevocationSource::PubSub);
  Json copy = mirror.snapshot();
  EXPECT_EQ(copy["lastSyncAt"], t0);
  EXPECT_EQ(copy["version"], 1);

  clock.advance(100s);  // the process restarts 100 s later, the blacklist unreachable
  RevocationMirror next{cfg, clock, &registry};
  EXPECT_TRUE(next.stale());
  EXPECT_EQ(next.restore(copy), 2u);
  EXPECT_TRUE(next.is_revoked("j1", "bob", t0));
  EXPECT_TRUE(next.is_revoked("", "alice", t0 - 20));
  EXPECT_FALSE(next.is_revoked("", "alice", t0));
  EXPECT_FALSE(next.stale());
  EXPECT_EQ(next.age(), 100s) << "age counts from the last real sync, not from the restart";
  clock.advance(201s);
  EXPECT_TRUE(next.stale());
}

TEST_F(Mirror, ACopyThatNeverSynchronisedRestoresEntriesButNoFreshness) {
  mirror.apply(RevocationEvent::token("j1", t0 / 1000 + 900, t0, "USA"), RevocationSource::Local);
  Json copy = mirror.snapshot();
  EXPECT_TRUE(copy["lastSyncAt"].is_null());
  RevocationMirror next{cfg, clock, &registry};
  EXPECT_EQ(next.restore(copy), 1u);
  EXPECT_TRUE(next.is_revoked("j1", "", t0));
  EXPECT_TRUE(next.stale());
}

TEST_F(Mirror, ExpiredEntriesAreNotRestoredAndABadCopyChangesNothing) {
  Json copy{{"version", 1},
            {"lastSyncAt", t0},
            {"tokens", Json::array({Json::array({"old", t0 / 1000 - 3600, t0}),
                                    Json::array({"live", t0 / 1000 + 600, t0})})},
            {"users", Json::array()}};
  RevocationMirror next{cfg, clock, &registry};
  EXPECT_EQ(next.restore(copy), 1u);
  EXPECT_FALSE(next.is_revoked("old", "", t0));
  RevocationMirror other{cfg, clock, &registry};
  for (const Json& bad : {Json::array(), Json{{"version", 2}},
                          Json{{"version", 1}, {"tokens", Json::array({Json::array({"x", "soon", 0})})}},
                          Json{{"version", 1}, {"lastSyncAt", "yesterday"}}}) {
    EXPECT_THROW(other.restore(bad), std::invalid_argument) << bad.dump();
    EXPECT_TRUE(other.stale());
    EXPECT_EQ(other.size(RevocationEvent::Kind::Token), 0u);
  }
  EXPECT_GT(next.generation(), 0u);
}
