#pragma once
// Revocation in a service process (docs/REVOCATION.md), wired from its ServiceContext: the mirror fed by
// the blacklist subscription and a periodic resync, the store that revokes (outbox in the instance
// database), the flusher, the health check and the metrics. The context must have been connected with
// database and blacklist_redis.
//
//   ctx.connect({.database = true, .blacklist_redis = true});
//   auto rev = std::make_shared<RevocationRuntime>(ctx);   // api, kas, idp: mirror + store
//   ctx.keep(rev);
//   rev->store().revoke_user(uid, now_ms);
//
// The mirror is durable: <instance>/state/<service>-revocation-mirror.json (0600) holds its entries and the
// time of its last real sync, written when it changes; it is restored at start, so that a restart while the
// blacklist is unreachable still enforces what was known (docs/REVOCATION.md).
//
// A process that only revokes and checks nothing may pass {.mirror = false}. (The idp keeps a mirror,
// so that introspection and userinfo answer "inactive" for revoked tokens; like api and kas it also
// writes back what a blacklist that lost its data lacks.)
//
// instance.json: revocation.max_staleness_s (300), revocation.resync_interval_s (30),
// revocation.user_retention_s (1230: token lifetime + skew + margin), revocation.flush_interval_ms (1000).
//
// Thread-safe: status() is served to request threads while the flusher, the resync and the subscriber run
// on their own threads (the mirror and the store lock themselves). mu_ guards the resync's outcome,
// save_mu_ the durable copy and what was last written to it.
#include <memory>
#include <string>

#include "common/json.hpp"
#include "common/mutex.hpp"
#include "common/periodic.hpp"

namespace dive::identity {
class RedisBlacklist;
class PgRevocationOutbox;
class RevocationMirror;
class RevocationStore;
}  // namespace dive::identity
namespace dive::store {
class RedisSubscriber;
}
namespace dive::metrics {
class Counter;
}
namespace dive::resilience {
struct CheckResult;
}

namespace dive::services {

class ServiceContext;

struct RevocationRuntimeOptions {
  bool mirror = true;  // keep a mirror and check revocations; false: revoke only
};

class RevocationRuntime {
 public:
  explicit RevocationRuntime(ServiceContext& ctx, RevocationRuntimeOptions opts = {});
  ~RevocationRuntime();
  RevocationRuntime(const RevocationRuntime&) = delete;
  RevocationRuntime& operator=(const RevocationRuntime&) = delete;

  identity::RevocationStore& store() { return *store_; }  // the Revoker
  identity::RevocationMirror* mirror() { return mirror_.get(); }
  // {mirror: {...}, outbox: {...}, subscriber: {connected, reconnects}, lastResyncError,
  //  lastRestore: null | {missing, restored, at}}  (revocations the blacklist had lost, written back)
  Json status() const;

 private:
  // The steps of construction (a mirror only with RevocationRuntimeOptions::mirror):
  // the mirror, its metrics, and its durable copy read back;
  void create_mirror();
  // one synchronous read of the blacklist before serving (bounded by the Redis timeouts): a mirror that
  // never synchronised refuses every token, so the first requests should not meet an empty one;
  void first_sync();
  // the subscriber to the blacklist's revocation channels, which keeps the mirror current between resyncs;
  void start_subscriber();
  // the "revocationMirror" health check: healthy while the mirror is not stale.
  resilience::CheckResult mirror_check() const;
  void resync();
  void restore_copy();
  void save_copy();  // when the mirror changed since the last save

  ServiceContext& ctx_;
  std::unique_ptr<identity::RedisBlacklist> blacklist_;
  std::unique_ptr<identity::PgRevocationOutbox> outbox_;
  std::shared_ptr<identity::RevocationMirror> mirror_;
  std::unique_ptr<identity::RevocationStore> store_;
  mutable Mutex mu_;
  std::string last_resync_error_ GUARDED_BY(mu_);
  Json last_restore_ GUARDED_BY(mu_);  // null until a resync found the blacklist missing something
  metrics::Counter* restored_ = nullptr;
  std::string copy_path_;  // "" without an instance directory
  Mutex save_mu_;          // and the file
  uint64_t saved_generation_ GUARDED_BY(save_mu_) = 0;
  int64_t saved_sync_ms_ GUARDED_BY(save_mu_) = 0;
  // Threads last: stopped before what they use is destroyed.
  std::unique_ptr<Periodic> resync_;
  std::unique_ptr<Periodic> flusher_;
  std::unique_ptr<store::RedisSubscriber> subscriber_;
};

}  // namespace dive::services
