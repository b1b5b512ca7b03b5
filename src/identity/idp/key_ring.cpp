#include "identity/idp/key_ring.hpp"

#include <stdexcept>

#include "common/mutex.hpp"
#include "identity/jwk.hpp"

namespace dive::identity::idp {

bool KeyRing::install(KeySet keys) {
  {
    MutexLock lock(mu_);
    if (snap_ && snap_->keys.version == keys.version) return false;
  }
  auto s = std::make_shared<Snapshot>();
  s->jwks = to_jwks(keys.published);
  s->keys = std::move(keys);
  MutexLock lock(mu_);
  snap_ = std::move(s);
  return true;
}

std::shared_ptr<const KeyRing::Snapshot> KeyRing::current() const {
  MutexLock lock(mu_);
  return snap_;
}

SigningKey KeyRing::active() const {
  auto s = current();
  if (!s || !s->keys.active) throw std::runtime_error("no active signing key");
  return *s->keys.active;
}

std::optional<VerifyKey> KeyRing::find(const std::string& kid) const {
  auto s = current();
  if (!s) return std::nullopt;
  for (const auto& k : s->keys.published)
    if (k.kid() == kid) return k;
  return std::nullopt;
}

}  // namespace dive::identity::idp
