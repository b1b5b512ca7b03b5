#pragma once
// The signing keys a running idp uses: the active key and the published JWKS, swapped atomically when the
// database's set changes (the idp polls it, so `./dive hub keys rotate` takes effect without a restart).
// Thread-safe: request threads take the current snapshot (immutable, shared) while the poller installs a
// new one; mu_ guards the pointer only.
#include <memory>
#include <optional>
#include <string>

#include "common/json.hpp"
#include "common/mutex.hpp"
#include "identity/idp/key_store.hpp"

namespace dive::identity::idp {

class KeyRing {
 public:
  struct Snapshot {
    KeySet keys;
    Json jwks;  // {"keys": [...]} of keys.published
  };

  // Installs `keys` when their version differs from the current one. True when it changed.
  bool install(KeySet keys);
  std::shared_ptr<const Snapshot> current() const;  // nullptr before the first install
  // The active key; throws std::runtime_error when there is none yet.
  SigningKey active() const;
  // A published key by kid (active or retired within the window).
  std::optional<VerifyKey> find(const std::string& kid) const;

 private:
  mutable Mutex mu_;
  std::shared_ptr<const Snapshot> snap_ GUARDED_BY(mu_);
};

}  // namespace dive::identity::idp
