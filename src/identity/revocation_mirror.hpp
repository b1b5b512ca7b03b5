#pragma once
// The in-memory mirror of the shared blacklist that every api and kas checks on the request path (no
// network call there). Fed by the pub/sub subscription, by this process's own revocations and by a
// periodic full resynchronisation; see docs/REVOCATION.md.
//
//   RevocationMirror mirror({.max_staleness = 300s}, Clock::system(), &registry);
//   subscriber: mirror.apply(*RevocationEvent::parse(msg), RevocationSource::PubSub);
//   resync:     auto missing = mirror.reconcile(snapshot, started_at);  // push `missing` back
//   request:    if (mirror.stale()) 503; if (mirror.is_revoked(jti, uid, issued_ms)) 401;
//
// Rules: a jti entry revokes that token (kept until exp + token_grace, then pruned); a user entry revokes
// the user's tokens issued strictly before its threshold (the largest threshold wins), so a login after
// a logout is accepted. Entries leave the mirror only by expiring: a resync adds what the mirror lacked
// and reports what the shared store lacks (it lost data), it never un-revokes. age() is the time since the
// last successful resync or received event; the mirror is stale when that exceeds max_staleness (callers fail
// closed). A mirror that has never synchronised is stale: until its first resync (or a restore of its durable
// copy) it knows nothing of what was revoked elsewhere, so it must not answer "not revoked".
//
// Durability: snapshot() is what a process keeps in its instance directory; restore() loads it at start
// with the wall-clock time of its last real sync, so a restart while the blacklist is unreachable still
// enforces what was known and counts staleness from that sync (not from the restart).
//
// Metrics (with a registry): dive_v3_revocations_total{kind,source} (entries new to the mirror),
// dive_v3_revocation_mirror_size{kind}, dive_v3_revocation_mirror_age_seconds (set by update_gauges()),
// dive_v3_revocation_propagation_seconds (from the revocation's time to its arrival here, for entries
// that arrive from elsewhere after the first sync).
//
// Thread-safe: request threads call is_revoked() and stale() while the subscriber, the resync and this
// process's revocations change it. mu_ guards the entries (shared for lookups); the sync times, flags
// and generation are atomics read without it.
#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mutex.hpp"
#include "identity/revocation.hpp"
#include "identity/revocation_event.hpp"
#include "identity/revocation_limits.hpp"

namespace dive::metrics {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace dive::metrics

namespace dive::identity {

enum class RevocationSource { Local, PubSub, Resync, Outbox };
std::string_view to_string(RevocationSource s);  // "local", "pubsub", "resync", "outbox"

// How status() names a jti or uniqueID: the first 16 hex digits of its SHA-256 (the status is public).
std::string revocation_ref(std::string_view id);

struct MirrorConfig {
  Millis max_staleness{300000};
  Millis token_grace{60000};  // a jti is kept this long after its exp (the validator allows clock skew)
  // A user entry is kept this long after its threshold: longer than any token issued before it lives.
  Millis user_retention{kDefaultUserRetention};
  size_t recent_events = 32;  // kept for status()
};

class RevocationMirror final : public RevocationCheck {
 public:
  explicit RevocationMirror(MirrorConfig cfg, Clock& clock = Clock::system(),
                            metrics::Registry* registry = nullptr);

  // Shared lock only.
  bool is_revoked(const std::string& jti, const std::string& unique_id, int64_t issued_ms) const override;

  // Adds or refreshes one entry; true when the mirror's answer changed (a new jti, a new or later user
  // threshold). An event from the subscription also counts as a sign of life (resets age()).
  bool apply(const RevocationEvent& e, RevocationSource source);
  // Merges a full snapshot of the shared store whose reading started at `started` (steady time) and marks
  // the mirror synced. Returns the unexpired entries the mirror holds that the snapshot lacks (or holds
  // with a smaller value), applied before `started`: the store has lost them (a restart without its data,
  // a flush), and the caller pushes them back. Nothing is dropped: a revocation cannot be undone, it ends
  // when it expires (prune()).
  std::vector<RevocationEvent> reconcile(const std::vector<RevocationEvent>& snapshot, SteadyTime started);
  // Drops expired entries; returns how many.
  size_t prune();

  Millis age() const;
  // Never synchronised (nor restored), or not synchronised for longer than max_staleness.
  bool stale() const override { return !has_baseline_.load() || age() > cfg_.max_staleness; }
  bool synced_once() const { return synced_once_.load(); }
  // Bumped by every change of the entries: a caller persists the mirror when it moved.
  uint64_t generation() const { return generation_.load(); }
  // Wall-clock ms of the last real sync (or of the restored copy's); 0 when there is none.
  int64_t last_sync_at_ms() const { return has_baseline_.load() ? last_sync_wall_ms_.load() : 0; }

  // The durable copy: {"version":1,"lastSyncAt":<ms>|null,"tokens":[[jti,exp_s,revokedAt]],
  // "users":[[uniqueID,threshold_ms,revokedAt]]}. lastSyncAt is null before the first real sync (a copy
  // that was never synchronised restores entries but no freshness).
  Json snapshot() const;
  // Merges a durable copy (unexpired entries only) and, when it carries lastSyncAt, takes that as the last
  // sync (age counts from it; a time in the future counts as now). Returns the entries merged; throws
  // std::invalid_argument on a copy of the wrong shape (nothing merged then).
  size_t restore(const Json& copy);
  size_t size(RevocationEvent::Kind kind) const;
  const MirrorConfig& config() const { return cfg_; }

  // {tokens, users, ageSeconds, stale, maxStalenessSeconds, syncedOnce, lastSyncAt, lastEvent,
  //  recentEvents: [{kind, ref, instance, revokedAt, receivedAt, propagationMs, source}]}
  Json status() const;
  void update_gauges();

 private:
  struct Entry {
    int64_t value = 0;          // exp (s) for tokens, threshold (ms) for users
    int64_t revoked_at_ms = 0;  // when it was revoked (0: unknown)
    SteadyTime applied{};       // last time this process applied it
  };
  using Map = std::unordered_map<std::string, Entry>;

  bool merge(Map& map, const RevocationEvent& e, SteadyTime now) const;  // no lock; true when changed
  void note_new(const RevocationEvent& e, RevocationSource source) REQUIRES(mu_);
  void mark_synced(SteadyTime at);
  void set_size_gauges() REQUIRES_SHARED(mu_);

  MirrorConfig cfg_;
  Clock& clock_;
  mutable SharedMutex mu_;
  Map tokens_ GUARDED_BY(mu_);
  Map users_ GUARDED_BY(mu_);
  std::deque<Json> recent_ GUARDED_BY(mu_);
  std::atomic<int64_t> last_sync_ns_;  // steady time of the last sync or event
  std::atomic<int64_t> last_sync_wall_ms_{0};
  std::atomic<bool> synced_once_{false};
  std::atomic<bool> has_baseline_{false};  // synced, or restored with a last sync time
  std::atomic<uint64_t> generation_{0};

  metrics::Registry* registry_ = nullptr;
  metrics::Counter* m_new_[2][4] = {};  // [kind][source]
  metrics::Gauge* m_size_[2] = {};
  metrics::Gauge* m_age_ = nullptr;
  metrics::Histogram* m_propagation_ = nullptr;
};

}  // namespace dive::identity
