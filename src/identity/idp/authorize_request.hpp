#pragma once
// The authorization request of the code flow (RFC 6749 §4.1.1 with PKCE, RFC 7636): validated before the
// login form is shown and again when it is posted. An unknown client or an unregistered redirect URI is
// never redirected to (the user sees an error page); any other error goes back to the client's
// redirect URI with error and state.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "identity/idp/client.hpp"
#include "identity/idp/form.hpp"

namespace dive::identity::idp {

struct AuthorizeRequest {
  std::string client_id, redirect_uri, response_type, scope, state, code_challenge, code_challenge_method,
      nonce;
  static AuthorizeRequest from(const FormParams& p);
  // The request's parameters, to carry through the login form as hidden fields.
  std::vector<std::pair<std::string, std::string>> fields() const;
};

struct AuthorizeCheck {
  enum class Kind { Ok, ShowError, RedirectError } kind = Kind::Ok;
  std::string error, description;  // OAuth error code and text
  std::optional<Client> client;
  // For RedirectError: where to send the user agent.
  std::string redirect_url(const AuthorizeRequest& r, const std::string& issuer) const;
};

AuthorizeCheck check_authorize(const AuthorizeRequest& r, const FormParams& raw, const ClientLookup& lookup);

}  // namespace dive::identity::idp
