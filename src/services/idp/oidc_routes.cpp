#include "services/idp/oidc_routes.hpp"

#include <spdlog/spdlog.h>

#include "common/strings.hpp"
#include "identity/idp/key_ring.hpp"
#include "identity/idp/login_guard.hpp"
#include "identity/idp/login_page.hpp"
#include "identity/idp/oidc_metadata.hpp"
#include "identity/idp/oidc_provider.hpp"
#include "net/router.hpp"
#include "store/pg_pool.hpp"

namespace dive::services::idp {

using namespace identity::idp;

namespace {

constexpr size_t kMaxFormBytes = 64 * 1024;

void no_store(net::Response& r) {
  r.headers.set("Cache-Control", "no-store");
  r.headers.set("Pragma", "no-cache");
}

net::Response to_response(const OAuthResult& o) {
  net::Response r;
  r.status = o.status;
  if (!o.body.is_null()) {
    r.body = o.body.dump();
    r.headers.set("Content-Type", "application/json");
  }
  if (!o.www_authenticate.empty()) r.headers.set("WWW-Authenticate", o.www_authenticate);
  if (o.retry_after_s > 0) r.headers.set("Retry-After", std::to_string(o.retry_after_s));
  no_store(r);
  return r;
}

net::Response html(int status, std::string body) {
  net::Response r = net::Response::text(status, std::move(body), "text/html; charset=utf-8");
  no_store(r);
  r.headers.set("X-Frame-Options", "DENY");
  // The console's stylesheet only: no script, no inline style, no frame. (No form-action: Chromium applies it
  // to the redirect that follows the sign-in form, which goes to the client's redirect URI.)
  r.headers.set(
      "Content-Security-Policy",
      "default-src 'none'; style-src 'self'; img-src data:; base-uri 'none'; frame-ancestors 'none'");
  r.headers.set("Referrer-Policy", "no-referrer");
  return r;
}

net::Response redirect(const std::string& location) {
  net::Response r;
  r.status = 302;
  r.headers.set("Location", location);
  no_store(r);
  return r;
}

// The form body of a POST (or the query of a GET). nullopt: not form-encoded, or too large.
std::optional<FormParams> form_of(const net::Request& req) {
  if (req.method == "GET" || req.method == "HEAD") return parse_form(query_of(req.target));
  std::string ct = to_lower(req.headers.get("Content-Type").value_or(""));
  if (ct.rfind("application/x-www-form-urlencoded", 0) != 0 || req.body.size() > kMaxFormBytes)
    return std::nullopt;
  return parse_form(req.body);
}

net::Response bad_form() {
  return to_response(OAuthResult::error(
      400, "invalid_request", "Expected an application/x-www-form-urlencoded body of at most 64 KiB"));
}

// Runs an endpoint; a database outage becomes 503 temporarily_unavailable rather than a 500.
template <class F>
net::Response guarded(F&& f) {
  try {
    return f();
  } catch (const store::PgUnavailable& e) {
    spdlog::warn("idp request failed: database unavailable: {}", e.what());
    return to_response(
        OAuthResult::error(503, "temporarily_unavailable", "The identity store is unavailable"));
  }
}

// Until the realm is loaded (its clients and signing keys, read from the database after a start), every
// endpoint that needs it answers 503 temporarily_unavailable with Retry-After: an idp that restarts must not
// answer "invalid_client" or an empty key set to a client that did nothing wrong.
net::Handler until_ready(const std::function<bool()>& ready, net::Handler h) {
  return [ready, h = std::move(h)](net::Request& req) {
    if (!ready()) {
      OAuthResult r = OAuthResult::error(503, "temporarily_unavailable",
                                         "The identity provider is starting: its realm is not loaded yet");
      r.retry_after_s = 1;
      return to_response(r);
    }
    return h(req);
  };
}

using Ready = std::function<bool()>;

// Discovery, the realm's public key and the JWKS.
void add_discovery_routes(net::Router& router, const std::shared_ptr<OidcProvider>& provider,
                          const std::string& realm, const std::string& oidc, std::shared_ptr<KeyRing> keys,
                          const Ready& ready) {
  const IdpConfig* cfg = &provider->config();
  Json discovery = openid_configuration(*cfg);
  router.add(
      "GET", realm + "/.well-known/openid-configuration",
      [discovery](net::Request&) { return net::Response::json(200, discovery); }, net::Exec::Inline);
  router.add(
      "GET", realm,
      [provider, keys, cfg](net::Request&) {
        auto snap = keys->current();
        if (!snap || !snap->keys.active)
          return net::Response::error(503, "unavailable", "No signing key yet", "");
        return net::Response::json(200, realm_info(*cfg, snap->keys.active->public_key()));
      },
      net::Exec::Inline);
  router.add(
      "GET", oidc + "/certs",
      until_ready(
          ready,
          [keys](net::Request&) {
            auto snap = keys->current();
            net::Response r = net::Response::json(200, snap ? snap->jwks : Json{{"keys", Json::array()}});
            r.headers.set("Cache-Control", "no-cache");
            return r;
          }),
      net::Exec::Inline);
}

// The back-channel endpoints: token, introspection, revocation, userinfo.
void add_token_routes(net::Router& router, const std::shared_ptr<OidcProvider>& provider,
                      const std::string& oidc, const Ready& ready) {
  auto* p = provider.get();
  router.add("POST", oidc + "/token", until_ready(ready, [provider, p](net::Request& req) {
               auto form = form_of(req);
               if (!form) return bad_form();
               return to_response(p->token(*form, req.headers.get("Authorization"),
                                           RequestMeta{req.remote_ip, req.request_id}));
             }));
  router.add("POST", oidc + "/token/introspect", until_ready(ready, [provider, p](net::Request& req) {
               auto form = form_of(req);
               if (!form) return bad_form();
               return to_response(p->introspect(*form, req.headers.get("Authorization")));
             }));
  router.add("POST", oidc + "/revoke", until_ready(ready, [provider, p](net::Request& req) {
               auto form = form_of(req);
               if (!form) return bad_form();
               return to_response(p->revoke(*form, req.headers.get("Authorization"),
                                            RequestMeta{req.remote_ip, req.request_id}));
             }));
  auto userinfo = until_ready(
      ready, [provider, p](net::Request& req) { return to_response(p->userinfo(req.bearer_token())); });
  router.add("GET", oidc + "/userinfo", userinfo);
  router.add("POST", oidc + "/userinfo", userinfo);
}

// RP-initiated logout. GET only shows a confirmation page (a link or an image must not end a session); the
// POST ends it. A browser's POST (from that page, or an RP's form) is redirected to a registered
// post_logout_redirect_uri or shown a page; an API client's POST gets 204 (or the OAuth error).
void add_logout_routes(net::Router& router, const std::shared_ptr<OidcProvider>& provider,
                       const std::string& oidc, const Ready& ready) {
  auto* p = provider.get();
  const std::string logout_path = oidc + "/logout";
  router.add("GET", logout_path, [logout_path](net::Request& req) {
    FormParams q = parse_form(query_of(req.target));
    std::vector<std::pair<std::string, std::string>> hidden;
    for (const char* k : {"id_token_hint", "client_id", "post_logout_redirect_uri", "state"})
      if (q.has(k)) hidden.emplace_back(k, q.get(k));
    hidden.emplace_back("ui", "1");
    return html(200, logout_confirm_page(logout_path, hidden));
  });
  router.add("POST", logout_path, until_ready(ready, [provider, p](net::Request& req) {
               auto form = form_of(req);
               if (!form) return bad_form();
               return guarded([&] {
                 std::string to;
                 OAuthResult r = p->logout(*form, req.headers.get("Authorization"), &to,
                                           RequestMeta{req.remote_ip, req.request_id});
                 const bool browser = form->has("ui") || form->has("post_logout_redirect_uri");
                 if (!browser) return to_response(r);
                 if (r.status != 204)
                   return html(r.status == 503 ? 503 : 400,
                               message_page("Logout", "Nothing was logged out: no live session was named."));
                 if (!to.empty()) return redirect(to);
                 return html(200, message_page("Logged out", "You are logged out of every DIVE service."));
               });
             }));
}

// The sign-in page (GET: the authorization request checked, the form with a login token bound to a cookie)
// and its submission (POST: the token checked against the cookie, then password and one-time code).
void add_login_routes(net::Router& router, const std::shared_ptr<OidcProvider>& provider,
                      const IdpConfig* cfg, const std::string& oidc, const Ready& ready) {
  auto* p = provider.get();
  const std::string auth_path = oidc + "/auth";
  const std::string who = cfg->instance_name + " (" + cfg->code + ")";
  router.add("GET", auth_path, until_ready(ready, [provider, p, auth_path, cfg, who](net::Request& req) {
               FormParams form = parse_form(query_of(req.target));
               AuthorizeRequest ar = AuthorizeRequest::from(form);
               AuthorizeCheck c = p->check_authorize(ar, form);
               if (c.kind == AuthorizeCheck::Kind::ShowError)
                 return html(400, message_page("Sign-in error", c.description));
               if (c.kind == AuthorizeCheck::Kind::RedirectError)
                 return redirect(c.redirect_url(ar, cfg->issuer));
               const std::string token = new_login_token();
               auto hidden = ar.fields();
               hidden.emplace_back(kLoginField, token);
               net::Response r = html(200, login_page(who, auth_path, hidden, "", ""));
               r.headers.set("Set-Cookie", login_cookie(token, auth_path));
               return r;
             }));
  router.add(
      "POST", auth_path, until_ready(ready, [provider, p, auth_path, who](net::Request& req) {
        auto form = form_of(req);
        if (!form) return html(400, message_page("Sign-in error", "Malformed form submission."));
        const std::string token = form->get(std::string(kLoginField));
        if (!login_token_matches(req.headers.get("Cookie"), token)) {
          // Not from the form this idp served to this browser (login CSRF), or the form sat open too
          // long.
          spdlog::warn("[{}] sign-in form submission refused: missing or mismatched login token",
                       req.request_id);
          return html(400,
                      message_page("Sign-in error",
                                   "This sign-in form has expired or did not come from this site. Go back to "
                                   "the application and sign in again."));
        }
        return guarded([&] {
          AuthorizeRequest ar = AuthorizeRequest::from(*form);
          LoginStep s = p->login(ar, *form, form->get("username"), form->get("password"), form->get("otp"),
                                 RequestMeta{req.remote_ip, req.request_id});
          if (s.kind == LoginStep::Kind::Redirect) return redirect(s.location);
          if (s.kind == LoginStep::Kind::ShowError)
            return html(400, message_page("Sign-in error", s.message));
          auto hidden = ar.fields();
          hidden.emplace_back(kLoginField, token);  // the same token: its cookie is still set
          net::Response page = html(s.retry_after_s > 0 ? 429 : 200,
                                    login_page(who, auth_path, hidden, form->get("username"), s.message));
          if (s.retry_after_s > 0) page.headers.set("Retry-After", std::to_string(s.retry_after_s));
          return page;
        });
      }));
}

}  // namespace

void add_oidc_routes(net::Router& router, std::shared_ptr<OidcProvider> provider,
                     std::shared_ptr<KeyRing> keys, std::function<bool()> ready) {
  const IdpConfig* cfg = &provider->config();
  const std::string realm = "/realms/" + cfg->realm;
  const std::string oidc = realm + "/protocol/openid-connect";
  add_discovery_routes(router, provider, realm, oidc, std::move(keys), ready);
  add_token_routes(router, provider, oidc, ready);
  add_logout_routes(router, provider, oidc, ready);
  add_login_routes(router, provider, cfg, oidc, ready);
}

}  // namespace dive::services::idp
