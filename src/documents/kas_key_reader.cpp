#include "documents/kas_key_reader.hpp"

#include <spdlog/spdlog.h>

namespace dive::documents {

KasKeyReader::KasKeyReader(KasKeyCache& keys, Load load, Clock& clock, KasKeyRefresh timing)
    : keys_(keys), load_(std::move(load)), clock_(clock), timing_(timing) {}

std::shared_ptr<const ztdf::PrivateKey> KasKeyReader::private_key(const std::string& kid) {
  if (auto k = keys_.private_key(kid)) return k;
  MutexLock lock(reread_mu_);
  const auto now = clock_.now();
  if (last_reread_ && now - *last_reread_ < timing_.reread_at_most) return keys_.private_key(kid);
  last_reread_ = now;
  try {
    load_(keys_);
  } catch (const std::exception& e) {
    spdlog::warn("kas keys: re-read for an unknown kid failed: {}", e.what());
  }
  return keys_.private_key(kid);
}

void KasKeyReader::refresh_if_due() {
  MutexLock lock(refresh_mu_);
  const auto now = clock_.now();
  if (keys_.size() > 0 && now - last_refresh_ < timing_.refresh_every) return;
  load_(keys_);
  last_refresh_ = now;
}

}  // namespace dive::documents
