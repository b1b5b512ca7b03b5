#include "identity/idp/authorize_request.hpp"

#include "identity/idp/pkce.hpp"

namespace dive::identity::idp {

AuthorizeRequest AuthorizeRequest::from(const FormParams& p) {
  AuthorizeRequest r;
  r.client_id = p.get("client_id");
  r.redirect_uri = p.get("redirect_uri");
  r.response_type = p.get("response_type");
  r.scope = p.get("scope");
  r.state = p.get("state");
  r.code_challenge = p.get("code_challenge");
  r.code_challenge_method = p.get("code_challenge_method");
  r.nonce = p.get("nonce");
  return r;
}

std::vector<std::pair<std::string, std::string>> AuthorizeRequest::fields() const {
  std::vector<std::pair<std::string, std::string>> out{{"client_id", client_id},
                                                       {"redirect_uri", redirect_uri},
                                                       {"response_type", response_type},
                                                       {"scope", scope},
                                                       {"state", state},
                                                       {"code_challenge", code_challenge},
                                                       {"code_challenge_method", code_challenge_method},
                                                       {"nonce", nonce}};
  std::erase_if(out, [](const auto& kv) { return kv.second.empty(); });
  return out;
}

std::string AuthorizeCheck::redirect_url(const AuthorizeRequest& r, const std::string& issuer) const {
  std::vector<std::pair<std::string, std::string>> q{{"error", error}, {"error_description", description}};
  if (!r.state.empty()) q.emplace_back("state", r.state);
  q.emplace_back("iss", issuer);
  return add_query(r.redirect_uri, q);
}

AuthorizeCheck check_authorize(const AuthorizeRequest& r, const FormParams& raw, const ClientLookup& lookup) {
  AuthorizeCheck c;
  auto show = [&](std::string e, std::string d) {
    c.kind = AuthorizeCheck::Kind::ShowError;
    c.error = std::move(e);
    c.description = std::move(d);
    return c;
  };
  auto redirect = [&](std::string e, std::string d) {
    c.kind = AuthorizeCheck::Kind::RedirectError;
    c.error = std::move(e);
    c.description = std::move(d);
    return c;
  };
  if (r.client_id.empty()) return show("invalid_request", "Missing client_id");
  c.client = lookup(r.client_id);
  if (!c.client) return show("unauthorized_client", "Unknown client");
  if (r.redirect_uri.empty() || !c.client->redirect_allowed(r.redirect_uri))
    return show("invalid_request", "Invalid redirect_uri for this client");
  if (!raw.duplicate.empty()) return redirect("invalid_request", "Parameter sent more than once");
  if (!c.client->allows_grant("authorization_code"))
    return redirect("unauthorized_client", "Client may not use the authorization code flow");
  if (r.response_type != "code") return redirect("unsupported_response_type", "Only response_type=code");
  if (r.code_challenge_method != "S256" || !valid_code_challenge(r.code_challenge))
    return redirect("invalid_request", "PKCE with code_challenge_method=S256 is required");
  if (r.state.size() > 1024 || r.nonce.size() > 1024 || r.scope.size() > 1024)
    return redirect("invalid_request", "Parameter too long");
  return c;
}

}  // namespace dive::identity::idp
