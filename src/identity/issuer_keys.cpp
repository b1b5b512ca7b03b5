#include "identity/issuer_keys.hpp"

#include <spdlog/spdlog.h>

#include "common/mutex.hpp"
#include "identity/jwk.hpp"
#include "identity/log_safe.hpp"

namespace dive::identity {

IssuerKeys::IssuerKeys(JwksSource& source, Clock& clock, IssuerKeysOptions opts)
    : source_(source), clock_(clock), opts_(opts) {}

std::shared_ptr<IssuerKeys::Entry> IssuerKeys::entry(const std::string& issuer, bool create) const {
  {
    ReaderLock lock(map_mu_);
    if (auto it = entries_.find(issuer); it != entries_.end()) return it->second;
  }
  if (!create) return nullptr;
  WriterLock lock(map_mu_);
  auto& slot = entries_[issuer];
  if (!slot) slot = std::make_shared<Entry>();
  return slot;
}

IssuerKeys::Lookup IssuerKeys::lookup_locked(const Entry& e, const std::string& kid) const {
  Lookup out;
  if (auto it = e.keys.find(kid); it != e.keys.end()) {
    out.status = Status::Found;
    out.key = it->second;
    return out;
  }
  if (!e.last_success) {
    out.status = Status::Unavailable;
    out.detail = "no keys for the issuer" + (e.last_error.empty() ? std::string() : ": " + e.last_error);
  } else if (e.last_failed) {
    out.status = Status::Unavailable;
    out.detail = "kid not among the cached keys and the refresh failed: " + e.last_error;
  } else {
    out.status = Status::UnknownKid;
    out.detail = "kid not in the issuer's key set";
  }
  return out;
}

void IssuerKeys::maybe_fetch(const std::string& issuer, Entry& e, bool unknown_kid) {
  SteadyTime now = clock_.now();
  {
    WriterLock lock(e.mu);
    if (e.last_attempt && now - *e.last_attempt < opts_.min_refresh_interval) {
      // A kid minted moments after our last fetch (a rotation): one early refresh per interval.
      const bool early = unknown_kid && now - *e.last_attempt >= opts_.early_refresh_after &&
                         (!e.last_early || now - *e.last_early >= opts_.min_refresh_interval);
      if (!early) return;
      e.last_early = now;
    }
    e.last_attempt = now;
  }
  JwksParseResult parsed;
  try {
    parsed = parse_jwks(source_.fetch(issuer));
  } catch (const std::exception& ex) {
    std::string why = log_safe(ex.what(), 200);
    spdlog::warn("identity: JWKS of issuer {} unavailable: {}", log_safe(issuer), why);
    WriterLock lock(e.mu);
    e.last_failed = true;
    e.last_error = std::move(why);
    return;
  }
  for (const auto& s : parsed.skipped)
    spdlog::debug("identity: JWKS of issuer {}: skipped {}", log_safe(issuer), s);
  if (parsed.keys.empty())
    spdlog::warn("identity: JWKS of issuer {} holds no usable signature key", log_safe(issuer));
  std::unordered_map<std::string, VerifyKey> keys;
  for (auto& k : parsed.keys) keys.emplace(k.kid(), std::move(k));
  WriterLock lock(e.mu);
  e.keys = std::move(keys);
  e.last_success = now;
  e.last_failed = false;
  e.last_error.clear();
}

IssuerKeys::Lookup IssuerKeys::find(const std::string& issuer, const std::string& kid) {
  auto e = entry(issuer, true);
  {
    ReaderLock lock(e->mu);
    Lookup hit = lookup_locked(*e, kid);
    if (hit.status == Status::Found) {
      bool stale = clock_.now() - *e->last_success >= opts_.max_age;
      if (!stale) return hit;
      lock.unlock();
      // Stale: one thread refreshes, the others keep using what they have.
      if (!e->fetch_mu.try_lock()) return hit;
      MutexLock fetch(e->fetch_mu, std::adopt_lock);
      maybe_fetch(issuer, *e);
      ReaderLock again(e->mu);
      Lookup after = lookup_locked(*e, kid);
      // A failed refresh keeps the old keys; a successful one is authoritative.
      return after.status == Status::Unavailable ? hit : after;
    }
  }
  MutexLock fetch(e->fetch_mu);
  {
    ReaderLock lock(e->mu);
    Lookup hit = lookup_locked(*e, kid);
    if (hit.status == Status::Found) return hit;  // another thread fetched it meanwhile
  }
  maybe_fetch(issuer, *e, true);
  ReaderLock lock(e->mu);
  return lookup_locked(*e, kid);
}

bool IssuerKeys::refresh(const std::string& issuer) {
  auto e = entry(issuer, true);
  MutexLock fetch(e->fetch_mu);
  maybe_fetch(issuer, *e);
  ReaderLock lock(e->mu);
  return !e->keys.empty();
}

void IssuerKeys::forget(const std::string& issuer) {
  WriterLock lock(map_mu_);
  entries_.erase(issuer);
}

std::vector<std::string> IssuerKeys::kids(const std::string& issuer) const {
  std::vector<std::string> out;
  auto e = entry(issuer, false);
  if (!e) return out;
  ReaderLock lock(e->mu);
  for (const auto& [kid, key] : e->keys) out.push_back(kid);
  return out;
}

}  // namespace dive::identity
