// The token endpoint (RFC 6749 §3.2) and its grants.
#include "identity/idp/oidc_provider.hpp"

#include <spdlog/spdlog.h>

#include "audit/event.hpp"
#include "common/random.hpp"
#include "common/strings.hpp"
#include "identity/idp/pkce.hpp"
#include "identity/idp/user_store.hpp"
#include "identity/log_safe.hpp"
#include "identity/revocation.hpp"
#include "metrics/registry.hpp"
#include "store/pg_pool.hpp"

namespace dive::identity::idp {

namespace {
const std::vector<std::string> kGrants{"authorization_code", "password", "client_credentials",
                                       "refresh_token"};
}

OAuthResult OAuthResult::error(int status, std::string error, std::string description) {
  OAuthResult r;
  r.status = status;
  r.body = Json{{"error", std::move(error)}, {"error_description", std::move(description)}};
  return r;
}

std::string effective_scope(const std::string& requested) {
  std::vector<std::string> out;
  auto parts = split(requested, ' ');
  for (const char* known : {"openid", "profile", "email"})
    if (std::find(parts.begin(), parts.end(), known) != parts.end()) out.push_back(known);
  if (out.empty() || (out.size() == 1 && out[0] == "openid")) {
    out.push_back("profile");
    out.push_back("email");
  }
  return join(out, " ");
}

bool has_scope(const std::string& scope, const std::string& one) {
  auto parts = split(scope, ' ');
  return std::find(parts.begin(), parts.end(), one) != parts.end();
}

std::string new_uuid() {
  auto b = secure_random_bytes(16);
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += kHex[b[i] >> 4];
    s += kHex[b[i] & 0xf];
  }
  return s;
}

OidcProvider::OidcProvider(ProviderDeps deps)
    : deps_(deps),
      issuer_(deps.cfg.issuer, deps.cfg.access_token_ttl_s, deps.clock),
      auth_(deps.db, deps.cfg, deps.clock, deps.registry) {
  if (deps_.registry) {
    auto& fam =
        deps_.registry->counter("dive_v3_idp_tokens_issued_total",
                                "Token endpoint requests by grant type and result", {"grant", "result"});
    for (const auto& g : kGrants)
      for (bool ok : {true, false}) m_tokens_[{g, ok}] = &fam.labels({g, ok ? "success" : "error"});
    for (bool ok : {true, false}) m_tokens_[{"other", ok}] = &fam.labels({"other", ok ? "success" : "error"});
  }
}

int64_t OidcProvider::now_ms() const {
  return deps_.clock.unix_millis();
}

void OidcProvider::count(const std::string& grant, bool ok) {
  auto it = m_tokens_.find({grant, ok});
  if (it == m_tokens_.end()) it = m_tokens_.find({"other", ok});
  if (it != m_tokens_.end()) it->second->inc();
}

ClientLookup OidcProvider::client_lookup() const {
  return [this](const std::string& id) { return deps_.clients.find(id); };
}

OAuthResult OidcProvider::authenticated_client(const FormParams& form,
                                               const std::optional<std::string>& authorization,
                                               std::optional<Client>* out) {
  auto r = authenticate_client(form, authorization, client_lookup());
  if (r.error == ClientAuthError::None) {
    *out = std::move(r.client);
    return {};
  }
  spdlog::info("client authentication failed: {}", r.reason);
  if (r.error == ClientAuthError::InvalidRequest) return OAuthResult::error(400, "invalid_request", r.reason);
  auto e = OAuthResult::error(401, "invalid_client", "Invalid client or Invalid client credentials");
  e.www_authenticate = "Basic realm=\"" + deps_.cfg.realm + "\"";
  return e;
}

void OidcProvider::audit(audit::Event e, const RequestMeta& meta) {
  if (!deps_.audit) return;
  e.source_ip = meta.source;
  e.request_id = meta.request_id;
  if (e.actor_issuer.empty()) e.actor_issuer = deps_.cfg.issuer;
  deps_.audit->record(std::move(e));
}

void OidcProvider::audit_login(const LoginResult& login, const std::string& client_id,
                               const std::string& method, const RequestMeta& meta) {
  audit::Event e;
  e.details = audit::details(Json{{"client", client_id}, {"method", method}, {"amr", login.amr}});
  if (login.ok) {
    e.type = "auth.login";
    e.actor = login.user.attrs.unique_id;
    e.outcome = audit::kSuccess;
    e.reason = "signed in as " + login.user.username;
    audit(std::move(e), meta);
    return;
  }
  e.type = "auth.login_failed";
  e.actor = login.username;
  e.outcome = audit::kFailure;
  e.reason = login.reason;
  if (login.throttled)
    e.details = audit::details(Json{{"client", client_id}, {"method", method}, {"throttled", true}});
  audit::Event lock = e;
  audit(std::move(e), meta);
  if (login.locked_now) {
    lock.type = "auth.lockout";
    lock.outcome = audit::kDeny;
    lock.reason = std::to_string(deps_.cfg.lockout_threshold) +
                  " consecutive failed sign-ins: the account is locked for " +
                  std::to_string(deps_.cfg.lockout_minutes) + " min";
    audit(std::move(lock), meta);
  }
}

OAuthResult OidcProvider::token(const FormParams& form, const std::optional<std::string>& authorization,
                                const RequestMeta& meta) {
  const std::string grant = form.get("grant_type");
  if (!form.duplicate.empty()) {
    count(grant, false);
    return OAuthResult::error(400, "invalid_request",
                              "Parameter sent more than once: " + log_safe(form.duplicate, 40));
  }
  if (grant.empty()) {
    count("other", false);
    return OAuthResult::error(400, "invalid_request", "Missing form parameter: grant_type");
  }
  if (std::find(kGrants.begin(), kGrants.end(), grant) == kGrants.end()) {
    count("other", false);
    return OAuthResult::error(400, "unsupported_grant_type", "Unsupported grant_type");
  }
  std::optional<Client> client;
  OAuthResult r = authenticated_client(form, authorization, &client);
  if (client) {
    if (!client->allows_grant(grant)) {
      r = OAuthResult::error(400, "unauthorized_client", "Client not allowed to use grant type " + grant);
    } else {
      try {
        if (grant == "client_credentials")
          r = client_credentials_grant(*client, form, meta);
        else if (grant == "password")
          r = password_grant(*client, form, meta);
        else if (grant == "authorization_code")
          r = code_grant(*client, form, meta);
        else
          r = refresh_grant(*client, form, meta);
      } catch (const store::PgUnavailable& e) {
        spdlog::warn("token request ({}) failed: database unavailable: {}", grant, e.what());
        r = OAuthResult::error(503, "temporarily_unavailable", "The identity store is unavailable");
      }
    }
  }
  count(grant, r.status == 200);
  return r;
}

OAuthResult OidcProvider::client_credentials_grant(const Client& client, const FormParams& form,
                                                   const RequestMeta& meta) {
  if (!client.confidential) return OAuthResult::error(400, "unauthorized_client", "Public client");
  std::string scope = effective_scope(form.get("scope"));
  IssuedToken t = issuer_.service_access_token(client.client_id, scope, deps_.keys.active());
  audit::Event e;
  e.type = "token.issued";
  e.actor = client.client_id;
  e.outcome = audit::kSuccess;
  e.reason = "client_credentials grant";
  e.details =
      audit::details(Json{{"grant", "client_credentials"}, {"client", client.client_id}, {"jti", t.jti}});
  audit(std::move(e), meta);
  OAuthResult r;
  r.body = Json{{"access_token", t.token}, {"expires_in", deps_.cfg.access_token_ttl_s},
                {"refresh_expires_in", 0}, {"token_type", "Bearer"},
                {"not-before-policy", 0},  {"scope", scope}};
  return r;
}

OAuthResult OidcProvider::password_grant(const Client& client, const FormParams& form,
                                         const RequestMeta& meta) {
  if (!form.has("username") || !form.has("password"))
    return OAuthResult::error(400, "invalid_request",
                              "Missing parameter: username and password are required");
  LoginResult login = auth_.login(form.get("username"), form.get("password"), form.get("totp"), meta.source);
  audit_login(login, client.client_id, "password grant", meta);
  if (login.throttled) {
    spdlog::info("password grant throttled for client {}: {}", client.client_id, login.reason);
    auto r = OAuthResult::error(429, "slow_down", "Too many login attempts; retry later");
    r.retry_after_s = login.retry_after_s;
    return r;
  }
  if (!login.ok) {
    spdlog::info("password grant refused for client {}: {}", client.client_id, login.reason);
    return OAuthResult::error(400, "invalid_grant", "Invalid user credentials");
  }
  AuthContext ctx;
  ctx.auth_time = deps_.clock.unix_seconds();
  ctx.amr = login.amr;
  ctx.scope = effective_scope(form.get("scope"));
  return issue_user_tokens(client, login.user, ctx, now_ms(), "", "password", meta);
}

OAuthResult OidcProvider::code_grant(const Client& client, const FormParams& form, const RequestMeta& meta) {
  const std::string code = form.get("code");
  if (code.empty() || !form.has("redirect_uri"))
    return OAuthResult::error(400, "invalid_request",
                              "Missing parameter: code and redirect_uri are required");
  ConsumedCode c = deps_.db.with([&](pqxx::connection& conn) { return consume_auth_code(conn, code); });
  if (c.state == CodeState::Used) {
    // RFC 6749 §4.1.2: a code presented twice revokes what was issued for it, but only when the second
    // exchange would itself have been valid (same client, redirect URI and PKCE verifier): anyone who saw
    // a code in a log or a referrer must not be able to end its owner's session with it.
    const bool genuine = c.code.client_id == client.client_id &&
                         c.code.redirect_uri == form.get("redirect_uri") &&
                         verify_pkce_s256(form.get("code_verifier"), c.code.code_challenge);
    if (!genuine) {
      spdlog::warn(
          "a used authorization code was presented again by client {} without its client, redirect "
          "or verifier; nothing revoked",
          client.client_id);
      return OAuthResult::error(400, "invalid_grant", "Code not valid");
    }
    if (!c.family_id.empty())
      revoke_access(deps_.db.with([&](pqxx::connection& conn) {
        return revoke_family(conn, c.family_id, "code reuse");
      }),
                    c.code.user_id, "authorization code presented twice: the session it began is revoked",
                    meta);
    spdlog::warn("authorization code presented twice by client {}; its tokens are revoked", client.client_id);
    return OAuthResult::error(400, "invalid_grant", "Code not valid");
  }
  if (c.state != CodeState::Ok) return OAuthResult::error(400, "invalid_grant", "Code not valid");
  if (c.code.client_id != client.client_id)
    return OAuthResult::error(400, "invalid_grant", "Code was issued to another client");
  if (c.code.redirect_uri != form.get("redirect_uri"))
    return OAuthResult::error(400, "invalid_grant", "Incorrect redirect_uri");
  if (!verify_pkce_s256(form.get("code_verifier"), c.code.code_challenge))
    return OAuthResult::error(400, "invalid_grant", "PKCE verification failed");
  auto user = deps_.db.with([&](pqxx::connection& conn) { return find_user_by_id(conn, c.code.user_id); });
  if (!user || !user->enabled) return OAuthResult::error(400, "invalid_grant", "User not found or disabled");
  AuthContext ctx;
  ctx.auth_time = c.code.auth_time;
  ctx.amr = c.code.amr;
  ctx.scope = c.code.scope;
  ctx.nonce = c.code.nonce;
  OAuthResult r = issue_user_tokens(client, *user, ctx, ctx.auth_time * 1000, "", "authorization_code", meta);
  if (r.status == 200)
    deps_.db.with([&](pqxx::connection& conn) {
      attach_code_family(conn, c.hash, r.body.value("session_state", ""));
      return 0;
    });
  return r;
}

OAuthResult OidcProvider::refresh_grant(const Client& client, const FormParams& form,
                                        const RequestMeta& meta) {
  const std::string token = form.get("refresh_token");
  if (token.empty()) return OAuthResult::error(400, "invalid_request", "Missing parameter: refresh_token");
  auto rec = deps_.db.with([&](pqxx::connection& c) { return find_refresh_token(c, token); });
  if (!rec) return OAuthResult::error(400, "invalid_grant", "Invalid refresh token");
  RefreshVerdict v = judge_refresh(*rec, client.client_id, now_ms());
  if (v == RefreshVerdict::Reuse) {
    revoke_access(deps_.db.with([&](pqxx::connection& c) {
      return revoke_family(c, rec->family_id, "refresh token reuse");
    }),
                  rec->user_id, "refresh token reused: its session is revoked", meta);
    spdlog::warn("refresh token reused (client {}); session {} revoked", client.client_id, rec->family_id);
    return OAuthResult::error(400, "invalid_grant", "Refresh token reused; the session is revoked");
  }
  if (v != RefreshVerdict::Rotate) {
    spdlog::info("refresh refused for client {}: {}", client.client_id, to_string(v));
    return OAuthResult::error(400, "invalid_grant", "Token is not active");
  }
  auto user = deps_.db.with([&](pqxx::connection& c) { return find_user_by_id(c, rec->user_id); });
  if (!user || !user->enabled) return OAuthResult::error(400, "invalid_grant", "User not found or disabled");
  if (deps_.revocations) {
    // A logout or user revocation anywhere in the federation ends the refresh tokens issued before it.
    // Without a trustworthy mirror nothing is issued: fail closed, as the api does.
    if (deps_.revocations->stale())
      return OAuthResult::error(503, "temporarily_unavailable", "Revocations cannot be checked right now");
    if (deps_.revocations->is_revoked("", user->attrs.unique_id, rec->family_issued_ms)) {
      revoke_access(deps_.db.with([&](pqxx::connection& c) {
        return revoke_family(c, rec->family_id, "user revoked");
      }),
                    user->attrs.unique_id,
                    "refresh refused: the user's sessions were revoked after this one began", meta);
      spdlog::info("refresh refused for client {}: the user's sessions were revoked after this one began",
                   client.client_id);
      return OAuthResult::error(400, "invalid_grant", "Token is not active");
    }
  }
  AuthContext ctx;
  ctx.auth_time = rec->auth_time;
  ctx.amr = rec->amr;
  ctx.scope = rec->scope;
  ctx.sid = rec->family_id;
  return issue_user_tokens(client, *user, ctx, rec->session_started_ms, token, "refresh_token", meta);
}

OAuthResult OidcProvider::issue_user_tokens(const Client& client, const User& user, AuthContext ctx,
                                            int64_t session_started_ms, const std::string& rotate_from,
                                            const std::string& grant, const RequestMeta& meta) {
  if (ctx.sid.empty()) ctx.sid = new_uuid();
  SigningKey key = deps_.keys.active();
  IssuedToken access = issuer_.user_access_token(user, client.client_id, ctx, key);
  NewRefreshToken next;
  next.family_id = ctx.sid;
  next.user_id = user.id;
  next.client_id = client.client_id;
  next.scope = ctx.scope;
  next.auth_time = ctx.auth_time;
  next.amr = ctx.amr;
  next.session_started_ms = session_started_ms;
  int64_t now = now_ms();
  next.expires_ms =
      refresh_expiry_ms(now, session_started_ms, deps_.cfg.refresh_token_ttl_s, deps_.cfg.session_max_s);
  next.access_jti = access.jti;
  next.access_exp = access.exp;
  std::optional<StoredRefresh> stored;
  if (rotate_from.empty()) {
    stored = deps_.db.with([&](pqxx::connection& c) { return store_refresh_token(c, next); });
  } else {
    stored = deps_.db.with([&](pqxx::connection& c) { return rotate_refresh_token(c, rotate_from, next); });
    if (!stored) {  // used concurrently: the same token twice
      revoke_access(deps_.db.with([&](pqxx::connection& c) {
        return revoke_family(c, ctx.sid, "refresh token reuse");
      }),
                    user.attrs.unique_id, "refresh token used twice at once: its session is revoked", meta);
      return OAuthResult::error(400, "invalid_grant", "Refresh token reused; the session is revoked");
    }
  }
  OAuthResult r;
  r.body = Json{{"access_token", access.token},
                {"expires_in", deps_.cfg.access_token_ttl_s},
                {"refresh_token", stored->token},
                {"refresh_expires_in", std::max<int64_t>(0, (next.expires_ms - now) / 1000)},
                {"token_type", "Bearer"},
                {"not-before-policy", 0},
                {"session_state", ctx.sid},
                {"scope", ctx.scope}};
  if (has_scope(ctx.scope, "openid"))
    r.body["id_token"] = issuer_.id_token(user, client.client_id, ctx, access.token, key).token;
  audit::Event e;
  e.type = "token.issued";
  e.actor = user.attrs.unique_id;
  e.outcome = audit::kSuccess;
  e.reason = grant + " grant";
  e.details = audit::details(Json{{"grant", grant},
                                  {"client", client.client_id},
                                  {"jti", access.jti},
                                  {"session", ctx.sid},
                                  {"scope", ctx.scope},
                                  {"amr", ctx.amr}});
  audit(std::move(e), meta);
  return r;
}

void OidcProvider::revoke_access(const AccessRefs& refs, const std::string& actor, const std::string& why,
                                 const RequestMeta& meta) {
  audit::Event e;
  e.type = "token.revoked";
  e.actor = actor;
  e.outcome = audit::kSuccess;
  e.reason = why;
  Json jtis = Json::array();
  for (const auto& [jti, exp] : refs) jtis.push_back(jti);
  e.details = audit::details(Json{{"accessTokens", jtis}});
  audit(std::move(e), meta);
  if (!deps_.revoker) return;
  for (const auto& [jti, exp] : refs) deps_.revoker->revoke_token(jti, exp);
}

}  // namespace dive::identity::idp
