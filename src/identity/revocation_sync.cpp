#include "identity/revocation_sync.hpp"

#include "identity/revocation_backend.hpp"
#include "identity/revocation_mirror.hpp"
#include "identity/revocation_store.hpp"

namespace dive::identity {

ResyncResult resync_mirror(RevocationMirror& mirror, BlacklistBackend& shared, const RevocationStore* store,
                           Clock& clock) {
  mirror.prune();
  const auto started = clock.now();
  auto snapshot = shared.snapshot();
  if (store) {
    auto pending = store->pending_events();
    snapshot.insert(snapshot.end(), pending.begin(), pending.end());
  }
  ResyncResult r;
  const auto missing = mirror.reconcile(snapshot, started);
  r.missing = missing.size();
  if (missing.empty()) return r;
  // The shared store has lost revocations this process still enforces (a blacklist Redis restarted
  // without its append-only file, a FLUSHALL): write them back, so that processes started since, which
  // learn only from the store, enforce them too. Idempotent; every process that holds them does the same.
  for (const auto& e : missing) {
    try {
      shared.push(e, mirror.config().user_retention);
      ++r.restored;
    } catch (const std::exception& ex) {
      r.error = ex.what();
      break;  // the store is failing again; the next resync tries the rest
    }
  }
  return r;
}

}  // namespace dive::identity
