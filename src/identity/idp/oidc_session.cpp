// Introspection, revocation, userinfo, end-session logout and the login step of the authorization
// endpoint (the parts of OidcProvider that deal with tokens already issued and with the browser).
#include <spdlog/spdlog.h>

#include "audit/event.hpp"
#include "identity/idp/oidc_provider.hpp"
#include "identity/idp/own_token.hpp"
#include "identity/idp/user_store.hpp"
#include "identity/log_safe.hpp"
#include "identity/revocation.hpp"
#include "store/pg_pool.hpp"

namespace dive::identity::idp {

namespace {
bool looks_like_jwt(const std::string& t) {
  return std::count(t.begin(), t.end(), '.') == 2;
}

bool revoked(const RevocationCheck* check, const Json& claims) {
  if (!check) return false;
  int64_t iat = claims.value("iat", int64_t{0});
  return check->is_revoked(claims.value("jti", ""), claims.value("uniqueID", ""), issued_ms_of(claims, iat));
}

// A mirror that cannot be trusted answers nothing: 503, as the api does (docs/REVOCATION.md).
bool cannot_check(const RevocationCheck* check) {
  return check && check->stale();
}
OAuthResult revocations_unavailable() {
  auto r = OAuthResult::error(503, "temporarily_unavailable", "Revocations cannot be checked right now");
  r.retry_after_s = 5;
  return r;
}
}  // namespace

OAuthResult OidcProvider::introspect(const FormParams& form,
                                     const std::optional<std::string>& authorization) {
  std::optional<Client> client;
  OAuthResult r = authenticated_client(form, authorization, &client);
  if (!client) return r;
  if (!client->confidential || !client->may_introspect)
    return OAuthResult::error(403, "unauthorized_client", "Client may not introspect tokens");
  const std::string token = form.get("token");
  if (token.empty()) return OAuthResult::error(400, "invalid_request", "Missing parameter: token");
  r.body = Json{{"active", false}};
  if (cannot_check(deps_.revocations)) return revocations_unavailable();
  if (looks_like_jwt(token)) {
    auto t = verify_own_token(token, deps_.keys, deps_.cfg.issuer, deps_.clock.unix_seconds(), false);
    if (t && !revoked(deps_.revocations, t->claims)) {
      Json b = t->claims;
      b["active"] = true;
      b["client_id"] = b.value("azp", "");
      if (b.contains("preferred_username")) b["username"] = b["preferred_username"];
      b["token_type"] = b.value("typ", "Bearer");
      r.body = b;
    }
    return r;
  }
  try {
    auto rec = deps_.db.with([&](pqxx::connection& c) { return find_refresh_token(c, token); });
    int64_t now = deps_.clock.unix_millis();
    std::optional<User> user;
    if (rec && judge_refresh(*rec, rec->client_id, now) == RefreshVerdict::Rotate)
      user = deps_.db.with([&](pqxx::connection& c) { return find_user_by_id(c, rec->user_id); });
    if (user && user->enabled &&
        !(deps_.revocations &&
          deps_.revocations->is_revoked("", user->attrs.unique_id, rec->family_issued_ms)))
      r.body = Json{{"active", true},          {"token_type", "Refresh"}, {"client_id", rec->client_id},
                    {"sub", rec->user_id},     {"scope", rec->scope},     {"exp", rec->expires_ms / 1000},
                    {"iss", deps_.cfg.issuer}, {"sid", rec->family_id}};
  } catch (const store::PgUnavailable&) {
    return OAuthResult::error(503, "temporarily_unavailable", "The identity store is unavailable");
  }
  return r;
}

OAuthResult OidcProvider::revoke(const FormParams& form, const std::optional<std::string>& authorization,
                                 const RequestMeta& meta) {
  std::optional<Client> client;
  OAuthResult r = authenticated_client(form, authorization, &client);
  if (!client) return r;
  const std::string token = form.get("token");
  if (token.empty()) return OAuthResult::error(400, "invalid_request", "Missing parameter: token");
  OAuthResult ok;  // 200, empty body: also for tokens we do not know (RFC 7009 §2.2)
  if (looks_like_jwt(token)) {
    auto t = verify_own_token(token, deps_.keys, deps_.cfg.issuer, deps_.clock.unix_seconds(), true);
    if (!t) return ok;
    if (t->claims.value("azp", "") != client->client_id)
      return OAuthResult::error(400, "invalid_grant", "Token was issued to another client");
    if (deps_.revoker && t->exp > deps_.clock.unix_seconds())
      deps_.revoker->revoke_token(t->claims.value("jti", ""), t->exp);
    audit::Event e;
    e.type = "token.revoked";
    e.actor = t->claims.value("uniqueID", t->claims.value("sub", ""));
    e.outcome = audit::kSuccess;
    e.reason = "revoked by client " + client->client_id + " (RFC 7009)";
    e.details = audit::details(Json{{"jti", t->claims.value("jti", "")}, {"kind", "access"}});
    audit(std::move(e), meta);
    return ok;
  }
  try {
    auto rec = deps_.db.with([&](pqxx::connection& c) { return find_refresh_token(c, token); });
    if (!rec) return ok;
    if (rec->client_id != client->client_id)
      return OAuthResult::error(400, "invalid_grant", "Token was issued to another client");
    revoke_access(
        deps_.db.with([&](pqxx::connection& c) { return revoke_family(c, rec->family_id, "revoked"); }),
        rec->user_id, "refresh token revoked by client " + client->client_id + " (RFC 7009)", meta);
  } catch (const store::PgUnavailable&) {
    return OAuthResult::error(503, "temporarily_unavailable", "The identity store is unavailable");
  }
  return ok;
}

OAuthResult OidcProvider::userinfo(const std::optional<std::string>& bearer) {
  auto unauthorized = [&] {
    auto e = OAuthResult::error(401, "invalid_token", "Token verification failed");
    e.www_authenticate = "Bearer realm=\"" + deps_.cfg.realm + "\", error=\"invalid_token\"";
    return e;
  };
  if (!bearer) return unauthorized();
  if (cannot_check(deps_.revocations)) return revocations_unavailable();
  auto t = verify_own_token(*bearer, deps_.keys, deps_.cfg.issuer, deps_.clock.unix_seconds(), false);
  if (!t || t->claims.value("typ", "") != "Bearer" || revoked(deps_.revocations, t->claims))
    return unauthorized();
  const std::string sub = t->claims.value("sub", "");
  std::optional<User> user;
  try {
    user = deps_.db.with([&](pqxx::connection& c) { return find_user_by_id(c, sub); });
  } catch (const store::PgUnavailable&) {
    return OAuthResult::error(503, "temporarily_unavailable", "The identity store is unavailable");
  }
  OAuthResult r;
  if (!user) {  // a service account
    r.body = Json{{"sub", sub}, {"preferred_username", t->claims.value("preferred_username", "")}};
    return r;
  }
  if (!user->enabled) return unauthorized();
  r.body = identity_claims(*user);
  r.body["sub"] = user->id;
  return r;
}

OAuthResult OidcProvider::logout(const FormParams& form, const std::optional<std::string>& authorization,
                                 std::string* redirect, const RequestMeta& meta) {
  std::string user_id, unique_id, client_id = form.get("client_id");
  int64_t now = deps_.clock.unix_seconds();
  const bool basic = authorization && authorization->rfind("Basic ", 0) == 0;
  std::optional<std::string> bearer;
  if (authorization && authorization->rfind("Bearer ", 0) == 0) bearer = authorization->substr(7);
  try {
    if (form.has("refresh_token")) {
      // Only the client the token was issued to may end its session with it, and only while it is active.
      std::optional<Client> client;
      OAuthResult auth = authenticated_client(form, basic ? authorization : std::nullopt, &client);
      if (!client) return auth;
      auto rec = deps_.db.with(
          [&](pqxx::connection& c) { return find_refresh_token(c, form.get("refresh_token")); });
      if (!rec || judge_refresh(*rec, client->client_id, deps_.clock.unix_millis()) != RefreshVerdict::Rotate)
        return OAuthResult::error(400, "invalid_grant", "The refresh token is not active for this client");
      user_id = rec->user_id;
      client_id = client->client_id;
    }
    // An ID token or access token names a session only while it is valid (never an expired one).
    const std::string* bearer_hint = bearer ? &*bearer : nullptr;
    for (const std::string* hint : {&form.get("id_token_hint"), bearer_hint}) {
      if (!user_id.empty() || !hint || hint->empty()) continue;
      if (auto t = verify_own_token(*hint, deps_.keys, deps_.cfg.issuer, now, false);
          t && !revoked(deps_.revocations, t->claims)) {
        user_id = t->claims.value("sub", "");
        unique_id = t->claims.value("uniqueID", "");
        if (client_id.empty()) client_id = t->claims.value("azp", "");
      }
    }
    if (user_id.empty())
      return OAuthResult::error(400, "invalid_request",
                                "No valid refresh_token, id_token_hint or bearer token");
    if (auto u = deps_.db.with([&](pqxx::connection& c) { return find_user_by_id(c, user_id); })) {
      unique_id = u->attrs.unique_id;
      deps_.db.with([&](pqxx::connection& c) { return revoke_user_families(c, u->id, "logout"); });
    }
  } catch (const store::PgUnavailable&) {
    return OAuthResult::error(503, "temporarily_unavailable", "The identity store is unavailable");
  }
  if (!unique_id.empty() && deps_.revoker) {
    int64_t at_ms = deps_.clock.unix_millis();
    deps_.revoker->revoke_user(unique_id, at_ms);
  }
  spdlog::info("logout: session of {} ended (client {})", log_safe(unique_id, 64), log_safe(client_id, 40));
  audit::Event e;
  e.type = "auth.logout";
  e.actor = unique_id.empty() ? user_id : unique_id;
  e.outcome = audit::kSuccess;
  e.reason = "every session of the user ended and its tokens revoked on every instance";
  e.details = audit::details(Json{{"client", client_id}});
  audit(std::move(e), meta);
  const std::string post = form.get("post_logout_redirect_uri");
  if (redirect && !post.empty()) {
    auto client = deps_.clients.find(client_id);
    if (client && client->post_logout_redirect_allowed(post))
      *redirect = form.has("state") ? add_query(post, {{"state", form.get("state")}}) : post;
  }
  OAuthResult r;
  r.status = 204;
  return r;
}

AuthorizeCheck OidcProvider::check_authorize(const AuthorizeRequest& r, const FormParams& raw) const {
  return idp::check_authorize(r, raw, client_lookup());
}

LoginStep OidcProvider::login(const AuthorizeRequest& r, const FormParams& raw, const std::string& username,
                              const std::string& password, const std::string& otp, const RequestMeta& meta) {
  LoginStep step;
  AuthorizeCheck check = check_authorize(r, raw);
  if (check.kind == AuthorizeCheck::Kind::ShowError) {
    step.kind = LoginStep::Kind::ShowError;
    step.message = check.description;
    return step;
  }
  if (check.kind == AuthorizeCheck::Kind::RedirectError) {
    step.kind = LoginStep::Kind::Redirect;
    step.location = check.redirect_url(r, deps_.cfg.issuer);
    return step;
  }
  LoginResult login = auth_.login(username, password, otp, meta.source);
  audit_login(login, r.client_id, "sign-in form", meta);
  if (login.throttled) {
    spdlog::info("login form throttled (client {}): {}", r.client_id, login.reason);
    step.message = "Too many sign-in attempts. Wait a moment and try again.";
    step.retry_after_s = login.retry_after_s;
    return step;
  }
  if (!login.ok) {
    spdlog::info("login form refused (client {}): {}", r.client_id, login.reason);
    step.message = "Invalid username, password or one-time code.";
    return step;
  }
  AuthCode code;
  code.client_id = r.client_id;
  code.user_id = login.user.id;
  code.redirect_uri = r.redirect_uri;
  code.code_challenge = r.code_challenge;
  code.nonce = r.nonce;
  code.scope = effective_scope(r.scope);
  code.auth_time = deps_.clock.unix_seconds();
  code.amr = login.amr;
  std::string raw_code =
      deps_.db.with([&](pqxx::connection& c) { return store_auth_code(c, code, deps_.cfg.code_ttl_s); });
  std::vector<std::pair<std::string, std::string>> q{{"code", raw_code}};
  if (!r.state.empty()) q.emplace_back("state", r.state);
  q.emplace_back("iss", deps_.cfg.issuer);
  step.kind = LoginStep::Kind::Redirect;
  step.location = add_query(r.redirect_uri, q);
  return step;
}

}  // namespace dive::identity::idp
