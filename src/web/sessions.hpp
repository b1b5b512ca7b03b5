#pragma once
// The console's server-side state (docs/WEB.md, "Sign-in"): the browser holds only a random session id in an
// HttpOnly cookie; the tokens stay here.
//
//  - PendingLogins: a sign-in in flight, from the redirect to the identity provider until its callback — the
//    PKCE verifier, the nonce and where the user wanted to go, under a random `state`. Each is taken once and
//    lives at most `ttl` (10 minutes by default).
//  - SessionStore: a signed-in browser's tokens, its CSRF token and who the user is. A session lives while
//    its refresh token does (or its access token, when there is no refresh token) and at most `max_age`.
//
// Both hold ids only as SHA-256 digests (a memory dump does not hand out live cookies), are bounded (the
// oldest entry goes first when full) and are thread-safe: every HTTP worker thread uses them.
#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mutex.hpp"

namespace dive::web {

struct PendingLogin {
  std::string nation;         // the identity provider's instance code, e.g. USA, FRA
  std::string issuer;         // its issuer URL
  std::string code_verifier;  // PKCE (RFC 7636), 43+ characters
  std::string nonce;
  std::string return_to;  // a path of the console ("/", "/#/documents/doc-1")
  SteadyTime created{};
};

class PendingLogins {
 public:
  explicit PendingLogins(const Clock& clock, std::chrono::seconds ttl = std::chrono::minutes(10),
                         size_t capacity = 10000);
  // Stores the login and returns its new random `state` (43 base64url characters).
  std::string start(PendingLogin login);
  // The login of `state`, removed; nothing when unknown, already taken or expired.
  std::optional<PendingLogin> take(const std::string& state);
  size_t size() const;

 private:
  void prune_locked(SteadyTime now) REQUIRES(mu_);
  const Clock& clock_;
  const std::chrono::seconds ttl_;
  const size_t capacity_;
  mutable Mutex mu_;
  std::map<std::string, PendingLogin> by_state_hash_ GUARDED_BY(mu_);
};

struct TokenSet {
  std::string access_token, refresh_token, id_token;
  SystemTime access_expires{}, refresh_expires{};  // refresh_expires == {}: no refresh token
};

// A signed-in browser. `user` is the api's /api/auth/me answer (clearance, country, COI, roles, ...).
struct WebSession {
  std::string csrf;  // sent back by the page in X-CSRF-Token on every state-changing request
  std::string nation, issuer;
  TokenSet tokens;
  Json user;
  SystemTime created{};
};

// One session's entry: its own mutex serialises token refreshes (the identity provider rotates refresh
// tokens and revokes the whole family when one is reused, so two requests must never refresh at once).
struct SessionEntry {
  explicit SessionEntry(WebSession s) : session(std::move(s)) {}
  Mutex refresh_mu ACQUIRED_BEFORE(mu);
  mutable Mutex mu;
  WebSession session GUARDED_BY(mu);
  WebSession snapshot() const {
    MutexLock lock(mu);
    return session;
  }
};

class SessionStore {
 public:
  explicit SessionStore(const Clock& clock, std::chrono::hours max_age = std::chrono::hours(12),
                        size_t capacity = 10000);
  // Stores the session and returns the browser's new session id (43 base64url characters).
  std::string create(WebSession session);
  // The live session of `id`; nothing when unknown or expired (an expired one is removed).
  std::shared_ptr<SessionEntry> find(const std::string& id);
  // Removes the session; its entry, or nothing when there was none.
  std::shared_ptr<SessionEntry> remove(const std::string& id);
  size_t size() const;
  // Whether a session is past its end: its refresh token's expiry (its access token's without one) or
  // max_age after it was created.
  bool expired(const WebSession& s) const;

 private:
  void prune_locked() REQUIRES(mu_);
  const Clock& clock_;
  const std::chrono::hours max_age_;
  const size_t capacity_;
  mutable Mutex mu_;
  std::map<std::string, std::shared_ptr<SessionEntry>> by_id_hash_ GUARDED_BY(mu_);
};

}  // namespace dive::web
