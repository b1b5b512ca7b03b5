#pragma once
// The realm's OpenID Connect provider logic, independent of HTTP: the token endpoint's grants
// (authorization_code with PKCE, password with optional TOTP, client_credentials, refresh_token with
// rotation and reuse detection), introspection (RFC 7662), revocation (RFC 7009), userinfo, end-session
// logout (revokes the user's tokens federation-wide through the Revoker) and the login step of the
// authorization endpoint. The service (src/services/idp) maps HTTP to these calls.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "identity/idp/authorize_request.hpp"
#include "identity/idp/client_store.hpp"
#include "identity/idp/form.hpp"
#include "identity/idp/grant_store.hpp"
#include "identity/idp/idp_config.hpp"
#include "identity/idp/key_ring.hpp"
#include "identity/idp/token_issuer.hpp"
#include "identity/idp/user_authenticator.hpp"

namespace dive::audit {
struct Event;
class Recorder;
}  // namespace dive::audit
namespace dive::metrics {
class Counter;
class Registry;
}  // namespace dive::metrics
namespace dive::store {
class PgPool;
}
namespace dive::identity {
class Revoker;
class RevocationCheck;
}  // namespace dive::identity

namespace dive::identity::idp {

// A JSON answer of an OAuth endpoint: 200 with a body, or an error {"error","error_description"}.
struct OAuthResult {
  int status = 200;
  Json body;                     // null: no body
  std::string www_authenticate;  // set on 401s
  int retry_after_s = 0;         // > 0: a Retry-After header (429, 503)
  static OAuthResult error(int status, std::string error, std::string description);
};

struct ProviderDeps {
  const IdpConfig& cfg;
  store::PgPool& db;
  KeyRing& keys;
  ClientCache& clients;
  Revoker* revoker = nullptr;                    // federation-wide revocation (null: local only)
  const RevocationCheck* revocations = nullptr;  // for introspection and userinfo (null: not checked)
  Clock& clock = Clock::system();
  metrics::Registry* registry = nullptr;
  // The audit trail (docs/AUDIT.md): sign-ins (success, failure with the reason, lockout), tokens issued
  // per grant, revocations and logouts. Null: nothing recorded.
  audit::Recorder* audit = nullptr;
};

// Where a request came from, for the abuse limits and the audit trail.
struct RequestMeta {
  RequestMeta() = default;
  RequestMeta(std::string source_ip, std::string id = "")
      : source(std::move(source_ip)), request_id(std::move(id)) {}
  RequestMeta(const char* source_ip) : source(source_ip) {}
  std::string source;  // the client's address
  std::string request_id;
};

// The outcome of posting the login form.
struct LoginStep {
  enum class Kind { Redirect, ShowForm, ShowError } kind = Kind::ShowForm;
  std::string location;   // Redirect: redirect_uri with code (or error), state and iss
  std::string message;    // ShowForm: the (generic) error; ShowError: the text
  int retry_after_s = 0;  // ShowForm after too many attempts: answered 429 with Retry-After
};

class OidcProvider {
 public:
  explicit OidcProvider(ProviderDeps deps);

  // `meta.source`: the client's address, for the abuse limits of the password grant.
  OAuthResult token(const FormParams& form, const std::optional<std::string>& authorization,
                    const RequestMeta& meta = {});
  OAuthResult introspect(const FormParams& form, const std::optional<std::string>& authorization);
  OAuthResult revoke(const FormParams& form, const std::optional<std::string>& authorization,
                     const RequestMeta& meta = {});
  OAuthResult userinfo(const std::optional<std::string>& bearer);
  // End-session: the user named by refresh_token, id_token_hint or the bearer token. Returns 204 (no
  // body) when the session was ended; `redirect` gets the validated post_logout_redirect_uri, if any.
  // Needs a live credential: an unexpired id_token_hint or bearer access token of ours, or an active refresh
  // token presented by the client it was issued to (authenticated like at the token endpoint).
  // `authorization` is the request's Authorization header (Basic: client authentication; Bearer: a token).
  OAuthResult logout(const FormParams& form, const std::optional<std::string>& authorization,
                     std::string* redirect, const RequestMeta& meta = {});

  AuthorizeCheck check_authorize(const AuthorizeRequest& r, const FormParams& raw) const;
  LoginStep login(const AuthorizeRequest& r, const FormParams& raw, const std::string& username,
                  const std::string& password, const std::string& otp, const RequestMeta& meta = {});

  ClientLookup client_lookup() const;
  const IdpConfig& config() const { return deps_.cfg; }

 private:
  OAuthResult password_grant(const Client& client, const FormParams& form, const RequestMeta& meta);
  OAuthResult code_grant(const Client& client, const FormParams& form, const RequestMeta& meta);
  OAuthResult refresh_grant(const Client& client, const FormParams& form, const RequestMeta& meta);
  OAuthResult client_credentials_grant(const Client& client, const FormParams& form, const RequestMeta& meta);
  // Access (+ ID when scope has openid) + refresh token for a user login or refresh (audited as `grant`).
  OAuthResult issue_user_tokens(const Client& client, const User& user, AuthContext ctx,
                                int64_t session_started_ms, const std::string& rotate_from,
                                const std::string& grant, const RequestMeta& meta);
  // The audit records of a sign-in attempt (auth.login, or auth.login_failed and maybe auth.lockout).
  void audit_login(const LoginResult& login, const std::string& client_id, const std::string& method,
                   const RequestMeta& meta);
  // Completes (source, request id, issuer) and records an audit event.
  void audit(audit::Event e, const RequestMeta& meta);
  OAuthResult authenticated_client(const FormParams& form, const std::optional<std::string>& authorization,
                                   std::optional<Client>* out);
  void revoke_access(const AccessRefs& refs, const std::string& actor, const std::string& why,
                     const RequestMeta& meta);
  void count(const std::string& grant, bool ok);
  int64_t now_ms() const;

  ProviderDeps deps_;
  TokenIssuer issuer_;
  UserAuthenticator auth_;
  std::map<std::pair<std::string, bool>, metrics::Counter*> m_tokens_;
};

// RFC 6749 scope handling: the requested scopes we know (openid, profile, email), in that order; "profile
// email" when none was requested.
std::string effective_scope(const std::string& requested);
bool has_scope(const std::string& scope, const std::string& one);
std::string new_uuid();  // random (version 4)

}  // namespace dive::identity::idp
