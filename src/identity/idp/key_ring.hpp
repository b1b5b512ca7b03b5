#pragma once
// The signing keys a running idp uses: the active key and the published JWKS, swapped atomically when the
// database's set changes (the idp polls it, so `./dive hub keys rotate` takes effect without a restart).
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/json.hpp"
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
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snap_;
};

}  // namespace dive::identity::idp
