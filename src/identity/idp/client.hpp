#pragma once
// OIDC clients of a realm and client authentication (RFC 6749 §2.3): client_secret_basic or
// client_secret_post for confidential clients, client_id alone for public ones. Secrets are stored as
// SHA-256 hex and compared in constant time.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "identity/idp/form.hpp"

namespace dive::identity::idp {

struct IdpConfig;

struct Client {
  std::string client_id;
  bool confidential = false;
  std::string secret_sha256;  // hex; empty for public clients
  std::vector<std::string> grant_types;
  std::vector<std::string> redirect_uris;  // exact URIs, or a prefix ending in "/*"
  std::vector<std::string> post_logout_redirect_uris;
  bool may_introspect = false;

  bool allows_grant(const std::string& grant) const;
  // Exact match, or a registered "<prefix>/*" whose prefix the URI extends by a path (no "..", no
  // fragment, no user info): a redirect never leaves the registered origin and path.
  bool redirect_allowed(const std::string& uri) const;
  bool post_logout_redirect_allowed(const std::string& uri) const;
};

// The four clients of every realm (docs/IDP.md): dive-cli (public, password grant), dive-web (public,
// authorization code + PKCE, redirects to the api's console), dive-api and dive-kas (confidential,
// client_credentials, may introspect). Secrets come from secrets.json.
std::vector<Client> default_clients(const IdpConfig& cfg);

enum class ClientAuthError {
  None,
  InvalidRequest,  // two authentication methods at once, or a malformed Authorization header
  InvalidClient,   // unknown client, wrong or missing secret (401 with WWW-Authenticate for Basic)
};

struct ClientAuthResult {
  std::optional<Client> client;  // set when authenticated (or identified, for a public client)
  ClientAuthError error = ClientAuthError::None;
  bool used_basic = false;  // the failure answer carries WWW-Authenticate: Basic
  std::string reason;       // log-safe, for the log only
};

using ClientLookup = std::function<std::optional<Client>(const std::string& client_id)>;

// Authenticates the client of a token, introspection, revocation or logout request. A confidential
// client must present its secret (Basic header or client_secret in the body, not both); a public
// client is identified by client_id and must not present a secret.
ClientAuthResult authenticate_client(const FormParams& form, const std::optional<std::string>& authorization,
                                     const ClientLookup& lookup);

}  // namespace dive::identity::idp
