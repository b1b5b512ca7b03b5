#include "identity/revocation_sync.hpp"

#include "identity/revocation_backend.hpp"
#include "identity/revocation_mirror.hpp"
#include "identity/revocation_store.hpp"

namespace dive::identity {

void resync_mirror(RevocationMirror& mirror, BlacklistBackend& shared, const RevocationStore* store,
                   Clock& clock) {
  const auto started = clock.now();
  auto snapshot = shared.snapshot();
  if (store) {
    auto pending = store->pending_events();
    snapshot.insert(snapshot.end(), pending.begin(), pending.end());
  }
  mirror.replace(snapshot, started);
  mirror.prune();
}

}  // namespace dive::identity
