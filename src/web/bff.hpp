#pragma once
// The console's backend-for-frontend (docs/WEB.md, "Sign-in"): it signs users in with the authorization code
// flow and PKCE (public client dive-web) at their home identity provider, keeps their tokens on the server,
// refreshes them, and calls this instance's api on their behalf. The browser sees only a session cookie.
//
// Results are typed (BffError), never HTTP: src/web/bff_routes.cpp maps them to statuses. Thread-safe: every
// HTTP worker thread calls it; token refreshes of one session are serialised (SessionEntry::refresh_mu).
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mutex.hpp"
#include "net/https_client.hpp"
#include "web/sessions.hpp"

namespace dive::web {

struct BffConfig {
  std::string code;     // this instance (USA, FRA, ...)
  bool hub = false;     // the hub's console offers every member nation; a spoke's its own
  std::string web_url;  // this console, e.g. https://localhost:3000 (no trailing slash)
  std::string api_url;  // this instance's api
  std::string issuer;   // this instance's identity provider (the default nation's)
  std::string client_id = "dive-web";
  std::string alertmanager_url;                               // empty: no monitoring stack to ask for alerts
  std::vector<std::pair<std::string, std::string>> services;  // name -> base URL, for the operations view
  Millis upstream_timeout{5000};
  std::chrono::seconds refresh_margin{30};  // refresh an access token this long before it expires
  std::string callback_url() const { return web_url + "/auth/callback"; }
};

struct BffError {
  enum class Kind { BadRequest, Unauthorized, Forbidden, NotFound, Unavailable };
  Kind kind;
  std::string message;  // for the user, in plain words
};

template <class T>
using BffResult = std::variant<T, BffError>;

struct Nation {
  std::string code, issuer;
  bool home = false;  // this instance's own identity provider
};

struct LoginRedirect {
  std::string location;  // the identity provider's authorization URL
  std::string state;     // also set in the browser's login cookie (binds the callback to this browser)
};

struct SignedIn {
  std::string session_id;
  std::string return_to;
};

// An api answer passed through to the browser as is (status, content type, body, Retry-After).
struct ApiAnswer {
  int status = 0;
  std::string content_type, body, retry_after;
};

struct SignedOut {
  bool revoked_everywhere = false;  // the api confirmed the revocation of every token of the user
  std::string message;
};

class Bff {
 public:
  Bff(BffConfig cfg, net::HttpTransport& http, const Clock& clock);

  const BffConfig& config() const { return cfg_; }
  SessionStore& sessions() { return sessions_; }

  // This instance's nation first, then the federation's other members (from the api; cached 10 s).
  std::vector<Nation> nations();
  // Starts a sign-in at `nation`'s identity provider (empty: this instance's). `return_to` must be a path of
  // the console; anything else becomes "/".
  BffResult<LoginRedirect> begin_login(const std::string& nation, const std::string& return_to);
  // The identity provider's redirect back: `params` is the callback's query (code, state, iss, or error).
  // `state_cookie` is the login cookie's value: it must equal `state`.
  BffResult<SignedIn> finish_login(const std::map<std::string, std::string>& params,
                                   const std::optional<std::string>& state_cookie);

  // The session of a cookie value, or nullptr.
  std::shared_ptr<SessionEntry> session(const std::optional<std::string>& id);
  // Calls this instance's api as the session's user. `api_path` starts with "/api/" and must be one the
  // console uses (see allowed_api_call); a 401 from the api ends the session.
  BffResult<ApiAnswer> call_api(const std::string& session_id, SessionEntry& s, const std::string& method,
                                const std::string& api_path, const std::string& body,
                                const std::string& request_id);
  // Revokes every token of the user on every instance (the api's logout) and the refresh token at its
  // identity provider, and ends the session.
  SignedOut sign_out(const std::string& session_id, const std::string& request_id);
  // The operations view (role admin): health of every service, breakers, revocation, federation, alerts.
  BffResult<Json> operations(const std::string& session_id, SessionEntry& s, const std::string& request_id);

  // Whether the console may make this api call: the documents, the user, the federation's status.
  static bool allowed_api_call(const std::string& method, const std::string& api_path);
  // A safe redirect target inside the console: a path starting with "/" (not "//"), no backslash, no
  // control characters, at most 512 characters; else "/".
  static std::string safe_return_to(const std::string& return_to);

 private:
  // A live access token for the session, refreshed when close to expiry; an error ends or fails the call.
  BffResult<std::string> access_token(const std::string& session_id, SessionEntry& s);
  net::ClientResponse send(const std::string& method, const std::string& url, const std::string& body,
                           const std::string& content_type, const std::string& bearer,
                           const std::string& request_id);
  std::optional<TokenSet> tokens_of(const Json& token_response) const;

  BffConfig cfg_;
  net::HttpTransport& http_;
  const Clock& clock_;
  PendingLogins pending_;
  SessionStore sessions_;
  Mutex nations_mu_;
  std::vector<Nation> nations_ GUARDED_BY(nations_mu_);
  SteadyTime nations_at_ GUARDED_BY(nations_mu_);
};

}  // namespace dive::web
