#include "web/sessions.hpp"

#include <algorithm>

#include "common/encoding.hpp"
#include "common/mutex.hpp"
#include "common/random.hpp"

namespace dive::web {

namespace {

std::string digest(const std::string& id) {
  return sha256(id);
}

// The random ids: 32 bytes of the OS CSPRNG, base64url.
std::string new_id() {
  return secure_token(32);
}

}  // namespace

PendingLogins::PendingLogins(const Clock& clock, std::chrono::seconds ttl, size_t capacity)
    : clock_(clock), ttl_(ttl), capacity_(std::max<size_t>(capacity, 1)) {}

void PendingLogins::prune_locked(SteadyTime now) {
  for (auto it = by_state_hash_.begin(); it != by_state_hash_.end();)
    it = now - it->second.created >= ttl_ ? by_state_hash_.erase(it) : std::next(it);
  while (by_state_hash_.size() >= capacity_) {
    auto oldest =
        std::min_element(by_state_hash_.begin(), by_state_hash_.end(),
                         [](const auto& a, const auto& b) { return a.second.created < b.second.created; });
    by_state_hash_.erase(oldest);
  }
}

std::string PendingLogins::start(PendingLogin login) {
  const std::string state = new_id();
  login.created = clock_.now();
  MutexLock lock(mu_);
  if (by_state_hash_.size() >= capacity_) prune_locked(login.created);
  by_state_hash_[digest(state)] = std::move(login);
  return state;
}

std::optional<PendingLogin> PendingLogins::take(const std::string& state) {
  if (state.empty() || state.size() > 256) return std::nullopt;
  MutexLock lock(mu_);
  auto it = by_state_hash_.find(digest(state));
  if (it == by_state_hash_.end()) return std::nullopt;
  PendingLogin login = std::move(it->second);
  by_state_hash_.erase(it);
  if (clock_.now() - login.created >= ttl_) return std::nullopt;
  return login;
}

size_t PendingLogins::size() const {
  MutexLock lock(mu_);
  return by_state_hash_.size();
}

SessionStore::SessionStore(const Clock& clock, std::chrono::hours max_age, size_t capacity)
    : clock_(clock), max_age_(max_age), capacity_(std::max<size_t>(capacity, 1)) {}

bool SessionStore::expired(const WebSession& s) const {
  const SystemTime now = clock_.wall();
  if (now - s.created >= max_age_) return true;
  const SystemTime end = s.tokens.refresh_token.empty() ? s.tokens.access_expires : s.tokens.refresh_expires;
  return now >= end;
}

void SessionStore::prune_locked() {
  for (auto it = by_id_hash_.begin(); it != by_id_hash_.end();)
    it = expired(it->second->snapshot()) ? by_id_hash_.erase(it) : std::next(it);
  while (by_id_hash_.size() >= capacity_) {
    auto oldest = std::min_element(by_id_hash_.begin(), by_id_hash_.end(), [](const auto& a, const auto& b) {
      return a.second->snapshot().created < b.second->snapshot().created;
    });
    by_id_hash_.erase(oldest);
  }
}

std::string SessionStore::create(WebSession session) {
  const std::string id = new_id();
  session.created = clock_.wall();
  auto entry = std::make_shared<SessionEntry>(std::move(session));
  MutexLock lock(mu_);
  if (by_id_hash_.size() >= capacity_) prune_locked();
  by_id_hash_[digest(id)] = std::move(entry);
  return id;
}

std::shared_ptr<SessionEntry> SessionStore::find(const std::string& id) {
  if (id.empty() || id.size() > 256) return nullptr;
  MutexLock lock(mu_);
  auto it = by_id_hash_.find(digest(id));
  if (it == by_id_hash_.end()) return nullptr;
  if (expired(it->second->snapshot())) {
    by_id_hash_.erase(it);
    return nullptr;
  }
  return it->second;
}

std::shared_ptr<SessionEntry> SessionStore::remove(const std::string& id) {
  if (id.empty() || id.size() > 256) return nullptr;
  MutexLock lock(mu_);
  auto it = by_id_hash_.find(digest(id));
  if (it == by_id_hash_.end()) return nullptr;
  auto entry = std::move(it->second);
  by_id_hash_.erase(it);
  return entry;
}

size_t SessionStore::size() const {
  MutexLock lock(mu_);
  return by_id_hash_.size();
}

}  // namespace dive::web
