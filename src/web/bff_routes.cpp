#include "web/bff_routes.hpp"

#include <spdlog/spdlog.h>

#include "common/encoding.hpp"
#include "net/cookies.hpp"
#include "net/router.hpp"

namespace dive::web {

namespace {

int status_of(BffError::Kind k) {
  switch (k) {
    case BffError::Kind::BadRequest:
      return 400;
    case BffError::Kind::Unauthorized:
      return 401;
    case BffError::Kind::Forbidden:
      return 403;
    case BffError::Kind::NotFound:
      return 404;
    case BffError::Kind::Unavailable:
      return 503;
  }
  return 500;
}

const char* code_of(BffError::Kind k) {
  switch (k) {
    case BffError::Kind::BadRequest:
      return "bad_request";
    case BffError::Kind::Unauthorized:
      return "unauthorized";
    case BffError::Kind::Forbidden:
      return "forbidden";
    case BffError::Kind::NotFound:
      return "not_found";
    case BffError::Kind::Unavailable:
      return "unavailable";
  }
  return "error";
}

net::Response no_store(net::Response r) {
  r.headers.set("Cache-Control", "no-store");
  return r;
}

net::Response error_response(const BffError& e, const net::Request& req) {
  net::Response r = net::Response::error(status_of(e.kind), code_of(e.kind), e.message, req.request_id);
  if (e.kind == BffError::Kind::Unavailable) r.headers.set("Retry-After", "2");
  return no_store(std::move(r));
}

net::Response redirect(const std::string& location) {
  net::Response r;
  r.status = 302;
  r.headers.set("Location", location);
  return no_store(std::move(r));
}

std::optional<std::string> cookie(const net::Request& req, const char* name) {
  auto header = req.headers.view("Cookie");
  if (!header) return std::nullopt;
  return net::cookie_value(*header, name);
}

std::string clear_cookie(const char* name, net::SameSite same_site) {
  return net::set_cookie(name, "", "/", same_site, 0);
}

// The console's start page with a sign-in error code it explains (app.js): never a free text from the URL.
std::string signin_error_location(BffError::Kind k) {
  return std::string("/?signin_error=") + code_of(k);
}

// The console's metrics (docs/WEB.md), each outcome at 0 from the start; the sessions gauge is sampled at
// every exposition for as long as the bff lives.
struct BffMetrics {
  metrics::Family<metrics::Counter>* signins;
  metrics::Family<metrics::Counter>* signouts;
  metrics::Counter* csrf;
};

BffMetrics register_bff_metrics(metrics::Registry& registry, const std::shared_ptr<Bff>& bff) {
  auto& signins = registry.counter(
      "dive_v3_web_signins_total",
      "Console sign-ins by outcome (success, bad_request, unauthorized, unavailable)", {"outcome"});
  for (const char* o : {"success", "bad_request", "unauthorized", "unavailable"}) signins.labels({o});
  auto& signouts =
      registry.counter("dive_v3_web_signouts_total",
                       "Console sign-outs by whether the api confirmed the revocation", {"revoked"});
  for (const char* o : {"true", "false"}) signouts.labels({o});
  auto* csrf =
      &registry
           .counter("dive_v3_web_csrf_refusals_total",
                    "State-changing console requests refused for a missing or wrong CSRF token or origin")
           .unlabelled();
  auto* sessions = &registry.gauge("dive_v3_web_sessions", "Signed-in console sessions held").unlabelled();
  registry.add_collector([w = std::weak_ptr<Bff>(bff), sessions] {
    if (auto live = w.lock()) sessions->set(static_cast<double>(live->sessions().size()));
  });
  return BffMetrics{&signins, &signouts, csrf};
}

// GET /auth/login: off to the chosen nation's identity provider, the login cookie binding the callback to
// this browser.
net::Response begin_login(Bff& b, const net::Request& req) {
  auto get = [&](const char* k) {
    auto it = req.query.find(k);
    return it == req.query.end() ? std::string() : it->second;
  };
  auto r = b.begin_login(get("nation"), get("return"));
  if (auto* e = std::get_if<BffError>(&r)) {
    spdlog::info("[{}] web: sign-in not started: {}", req.request_id, e->message);
    return redirect(signin_error_location(e->kind));
  }
  const auto& go = std::get<LoginRedirect>(r);
  net::Response resp = redirect(go.location);
  resp.headers.add("Set-Cookie", net::set_cookie(kLoginCookie, go.state, "/", net::SameSite::Lax, 600));
  return resp;
}

// GET /auth/callback: the sign-in finished (a session cookie) or refused (the start page with its error);
// the login cookie cleared either way.
net::Response finish_login(Bff& b, metrics::Family<metrics::Counter>& signins, const net::Request& req) {
  auto r = b.finish_login(req.query, cookie(req, kLoginCookie));
  net::Response resp;
  auto* e = std::get_if<BffError>(&r);
  signins.labels({e ? code_of(e->kind) : "success"}).inc();
  if (e) {
    spdlog::warn("[{}] web: sign-in failed: {}", req.request_id, e->message);
    resp = redirect(signin_error_location(e->kind));
  } else {
    const auto& in = std::get<SignedIn>(r);
    resp = redirect(in.return_to);
    resp.headers.add("Set-Cookie",
                     net::set_cookie(kSessionCookie, in.session_id, "/", net::SameSite::Strict));
  }
  resp.headers.add("Set-Cookie", clear_cookie(kLoginCookie, net::SameSite::Lax));
  return resp;
}

// GET /bff/session: the signed-in user (and the CSRF token), or the nations to sign in with.
net::Response session_info(Bff& b, const net::Request& req) {
  auto s = b.session(cookie(req, kSessionCookie));
  if (!s) {
    Json nations = Json::array();
    for (const Nation& n : b.nations()) nations.push_back(Json{{"code", n.code}, {"home", n.home}});
    return no_store(net::Response::json(200, Json{{"authenticated", false}, {"nations", nations}}));
  }
  WebSession w = s->snapshot();
  return no_store(net::Response::json(200, Json{{"authenticated", true},
                                                {"csrf", w.csrf},
                                                {"nation", w.nation},
                                                {"instance", b.config().code},
                                                {"user", w.user}}));
}

// POST /bff/logout (with the CSRF token): Bff::sign_out, then the session cookie cleared.
net::Response sign_out(Bff& b, const std::string& origin, const BffMetrics& m, const net::Request& req) {
  auto id = cookie(req, kSessionCookie);
  auto s = b.session(id);
  if (!s) return error_response({BffError::Kind::Unauthorized, "You are not signed in."}, req);
  if (!csrf_ok(req, s->snapshot(), origin)) {
    m.csrf->inc();
    spdlog::warn("[{}] web: sign-out refused: missing or wrong CSRF token", req.request_id);
    return error_response({BffError::Kind::Forbidden, "This request did not come from the console (CSRF)."},
                          req);
  }
  SignedOut out = b.sign_out(*id, req.request_id);
  m.signouts->labels({out.revoked_everywhere ? "true" : "false"}).inc();
  net::Response resp = no_store(net::Response::json(
      200,
      Json{{"signedOut", true}, {"revokedEverywhere", out.revoked_everywhere}, {"message", out.message}}));
  resp.headers.add("Set-Cookie", clear_cookie(kSessionCookie, net::SameSite::Strict));
  return resp;
}

// GET|POST /bff/api/*: the request passed on to the api as the session's user (anything but a GET only
// with the CSRF token), and the api's answer passed back.
net::Response proxy_to_api(Bff& b, const std::string& origin, metrics::Counter& csrf,
                           const net::Request& req) {
  auto id = cookie(req, kSessionCookie);
  auto s = b.session(id);
  if (!s) return error_response({BffError::Kind::Unauthorized, "You are not signed in."}, req);
  if (req.method != "GET" && !csrf_ok(req, s->snapshot(), origin)) {
    csrf.inc();
    spdlog::warn("[{}] web: {} {} refused: missing or wrong CSRF token", req.request_id, req.method,
                 req.path.substr(0, 100));
    return error_response({BffError::Kind::Forbidden, "This request did not come from the console (CSRF)."},
                          req);
  }
  // The raw target: ids and the query go to the api exactly as the page encoded them.
  const std::string api_path = "/api" + req.target.substr(std::string("/bff/api").size());
  auto r = b.call_api(*id, *s, req.method, api_path, req.body, req.request_id);
  if (auto* e = std::get_if<BffError>(&r)) return error_response(*e, req);
  auto& a = std::get<ApiAnswer>(r);
  net::Response resp;
  resp.status = a.status;
  resp.body = std::move(a.body);
  resp.headers.set("Content-Type", a.content_type);
  if (!a.retry_after.empty()) resp.headers.set("Retry-After", a.retry_after);
  return no_store(std::move(resp));
}

}  // namespace

bool csrf_ok(const net::Request& req, const WebSession& s, const std::string& web_origin) {
  auto token = req.headers.view(kCsrfHeader);
  if (!token || token->empty() || !constant_time_equal(*token, s.csrf)) return false;
  if (auto origin = req.headers.view("Origin"); origin && *origin != web_origin) return false;
  if (auto site = req.headers.view("Sec-Fetch-Site"); site && *site != "same-origin") return false;
  return true;
}

void add_bff_routes(net::Router& router, std::shared_ptr<Bff> bff, metrics::Registry& registry) {
  Bff* b = bff.get();
  const std::string origin = b->config().web_url;
  const BffMetrics m = register_bff_metrics(registry, bff);

  router.add("GET", "/auth/login", [bff, b](net::Request& req) { return begin_login(*b, req); });
  router.add("GET", "/auth/callback",
             [bff, b, signins = m.signins](net::Request& req) { return finish_login(*b, *signins, req); });
  router.add("GET", "/bff/session", [bff, b](net::Request& req) { return session_info(*b, req); });
  router.add("POST", "/bff/logout",
             [bff, b, origin, m](net::Request& req) { return sign_out(*b, origin, m, req); });
  auto proxy = [bff, b, origin, csrf = m.csrf](net::Request& req) {
    return proxy_to_api(*b, origin, *csrf, req);
  };
  router.add("GET", "/bff/api/*", proxy);
  router.add("POST", "/bff/api/*", proxy);

  router.add("GET", "/bff/operations", [bff, b](net::Request& req) {
    auto id = cookie(req, kSessionCookie);
    auto s = b->session(id);
    if (!s) return error_response({BffError::Kind::Unauthorized, "You are not signed in."}, req);
    auto r = b->operations(*id, *s, req.request_id);
    if (auto* e = std::get_if<BffError>(&r)) return error_response(*e, req);
    return no_store(net::Response::json(200, std::get<Json>(r)));
  });
}

}  // namespace dive::web
