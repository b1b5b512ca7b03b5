#include "web/bff.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/encoding.hpp"
#include "common/mutex.hpp"
#include "common/random.hpp"
#include "common/strings.hpp"

namespace dive::web {

namespace {

using Kind = BffError::Kind;

BffError err(Kind k, std::string message) {
  return BffError{k, std::move(message)};
}

std::string form_body(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string b;
  for (const auto& [k, v] : params) b += (b.empty() ? "" : "&") + url_encode(k) + "=" + url_encode(v);
  return b;
}

std::string oidc_endpoint(const std::string& issuer, const char* name) {
  return issuer + "/protocol/openid-connect/" + name;
}

// The claims of a JWT, unverified: the id token comes straight from its issuer over verified TLS (OpenID
// Connect Core §3.1.3.7), so only its nonce is checked here.
Json jwt_claims(const std::string& jwt) {
  auto first = jwt.find('.');
  auto second = jwt.find('.', first == std::string::npos ? 0 : first + 1);
  if (first == std::string::npos || second == std::string::npos) return Json();
  auto payload = base64url_decode(jwt.substr(first + 1, second - first - 1));
  if (!payload) return Json();
  return Json::parse(*payload, nullptr, false);
}

bool has_role(const Json& user, const std::string& role) {
  const Json* roles = user.is_object() && user.contains("roles") ? &user["roles"] : nullptr;
  if (!roles || !roles->is_array()) return false;
  return std::any_of(roles->begin(), roles->end(), [&](const Json& r) { return r.is_string() && r == role; });
}

Json json_or_null(const net::ClientResponse& r) {
  Json j = Json::parse(r.body, nullptr, false);
  return j.is_discarded() ? Json() : j;
}

}  // namespace

Bff::Bff(BffConfig cfg, net::HttpTransport& http, const Clock& clock)
    : cfg_(std::move(cfg)), http_(http), clock_(clock), pending_(clock), sessions_(clock) {}

net::ClientResponse Bff::send(const std::string& method, const std::string& url, const std::string& body,
                              const std::string& content_type, const std::string& bearer,
                              const std::string& request_id) {
  net::ClientRequest req;
  req.method = method;
  req.url = url;
  req.body = body;
  req.timeout = cfg_.upstream_timeout;
  if (!content_type.empty()) req.headers.set("Content-Type", content_type);
  if (!bearer.empty()) req.headers.set("Authorization", "Bearer " + bearer);
  if (!request_id.empty()) req.headers.set("X-Request-Id", request_id);
  req.headers.set("Accept", "application/json");
  return http_.send(req);
}

std::vector<Nation> Bff::nations() {
  MutexLock lock(nations_mu_);
  const SteadyTime now = clock_.now();
  if (!nations_.empty() && now - nations_at_ < std::chrono::seconds(10)) return nations_;
  std::vector<Nation> out{Nation{cfg_.code, cfg_.issuer, true}};
  // Only the hub's console is a registered redirect target of every member's identity provider.
  if (!cfg_.hub) return out;
  try {
    auto r = send("GET", cfg_.api_url + "/api/federation/status", "", "", "", "");
    Json status = r.status == 200 ? json_or_null(r) : Json();
    if (status.is_object() && status.contains("members") && status["members"].is_array())
      for (const Json& m : status["members"]) {
        std::string code = m.value("code", ""), issuer = m.value("issuer", "");
        if (code.empty() || issuer.rfind("https://", 0) != 0 || code == cfg_.code) continue;
        out.push_back(Nation{code, issuer, false});
      }
  } catch (const std::exception& e) {
    spdlog::warn("web: the federation's members are unknown (the api did not answer: {}); offering {} only",
                 e.what(), cfg_.code);
  }
  std::sort(out.begin() + 1, out.end(), [](const Nation& a, const Nation& b) { return a.code < b.code; });
  nations_ = out;
  nations_at_ = now;
  return out;
}

std::string Bff::safe_return_to(const std::string& return_to) {
  if (return_to.empty() || return_to.size() > 512 || return_to[0] != '/' ||
      (return_to.size() > 1 && (return_to[1] == '/' || return_to[1] == '\\')))
    return "/";
  for (unsigned char c : return_to)
    if (c < 0x20 || c == 0x7f || c == '\\') return "/";
  return return_to;
}

BffResult<LoginRedirect> Bff::begin_login(const std::string& nation, const std::string& return_to) {
  std::optional<Nation> chosen;
  for (const Nation& n : nations())
    if (nation.empty() ? n.home : n.code == nation) chosen = n;
  if (!chosen)
    return err(Kind::BadRequest, "'" + nation.substr(0, 16) + "' is not a nation of this federation");
  PendingLogin login;
  login.nation = chosen->code;
  login.issuer = chosen->issuer;
  login.code_verifier = secure_token(32);
  login.nonce = secure_token(16);
  login.return_to = safe_return_to(return_to);
  const std::string challenge = base64url_encode(sha256(login.code_verifier));
  const std::string nonce = login.nonce, issuer = login.issuer;
  const std::string state = pending_.start(std::move(login));
  return LoginRedirect{add_query(oidc_endpoint(issuer, "auth"), {{"client_id", cfg_.client_id},
                                                                 {"redirect_uri", cfg_.callback_url()},
                                                                 {"response_type", "code"},
                                                                 {"scope", "openid profile"},
                                                                 {"state", state},
                                                                 {"nonce", nonce},
                                                                 {"code_challenge", challenge},
                                                                 {"code_challenge_method", "S256"}}),
                       state};
}

std::optional<TokenSet> Bff::tokens_of(const Json& j) const {
  if (!j.is_object() || !j.contains("access_token") || !j["access_token"].is_string()) return std::nullopt;
  TokenSet t;
  const SystemTime now = clock_.wall();
  t.access_token = j["access_token"].get<std::string>();
  t.refresh_token = j.value("refresh_token", "");
  t.id_token = j.value("id_token", "");
  t.access_expires = now + std::chrono::seconds(std::max<int64_t>(j.value("expires_in", int64_t{60}), 1));
  if (!t.refresh_token.empty())
    t.refresh_expires =
        now + std::chrono::seconds(std::max<int64_t>(j.value("refresh_expires_in", int64_t{1800}), 1));
  return t;
}

BffResult<SignedIn> Bff::finish_login(const std::map<std::string, std::string>& params,
                                      const std::optional<std::string>& state_cookie) {
  auto param = [&](const char* k) {
    auto it = params.find(k);
    return it == params.end() ? std::string() : it->second;
  };
  const std::string state = param("state");
  const bool bound = state_cookie && !state.empty() && constant_time_equal(*state_cookie, state);
  auto login = bound ? pending_.take(state) : std::nullopt;
  if (!login)
    return err(
        Kind::BadRequest,
        "This sign-in did not start in this browser, was already used, or took longer than 10 minutes. "
        "Sign in again.");
  if (!param("error").empty()) {
    std::string why = param("error_description").empty() ? param("error") : param("error_description");
    return err(Kind::Unauthorized,
               "The identity provider of " + login->nation + " did not sign you in: " + why.substr(0, 200));
  }
  if (!param("iss").empty() && param("iss") != login->issuer)
    return err(Kind::BadRequest,
               "The answer came from another identity provider than the one asked. Sign in "
               "again.");
  if (param("code").empty()) return err(Kind::BadRequest, "The identity provider's answer has no code.");

  net::ClientResponse r;
  try {
    r = send("POST", oidc_endpoint(login->issuer, "token"),
             form_body({{"grant_type", "authorization_code"},
                        {"code", param("code")},
                        {"redirect_uri", cfg_.callback_url()},
                        {"client_id", cfg_.client_id},
                        {"code_verifier", login->code_verifier}}),
             "application/x-www-form-urlencoded", "", "");
  } catch (const std::exception& e) {
    spdlog::warn("web: sign-in at {}: the token endpoint did not answer: {}", login->nation, e.what());
    return err(Kind::Unavailable,
               "The identity provider of " + login->nation + " is unavailable. Try again.");
  }
  if (r.status >= 500)
    return err(Kind::Unavailable,
               "The identity provider of " + login->nation + " is unavailable. Try again.");
  auto tokens = r.status == 200 ? tokens_of(json_or_null(r)) : std::nullopt;
  if (!tokens) {
    spdlog::warn("web: sign-in at {}: the code was not exchanged (HTTP {}: {})", login->nation, r.status,
                 json_or_null(r).value("error", std::string("no error code")));
    return err(Kind::Unauthorized, "The sign-in could not be completed. Sign in again.");
  }
  if (jwt_claims(tokens->id_token).value("nonce", "") != login->nonce)
    return err(Kind::Unauthorized,
               "The identity provider's answer did not match this sign-in. Sign in again.");

  net::ClientResponse me;
  try {
    me = send("GET", cfg_.api_url + "/api/auth/me", "", "", tokens->access_token, "");
  } catch (const std::exception& e) {
    return err(Kind::Unavailable, "This instance's api is unavailable. Try again.");
  }
  if (me.status == 401 || me.status == 403)
    return err(Kind::Unauthorized,
               "This instance does not accept sign-ins from " + login->nation + ": " +
                   json_or_null(me).value("message", std::string("the token was refused")));
  if (me.status != 200) return err(Kind::Unavailable, "This instance's api is unavailable. Try again.");

  WebSession s;
  s.csrf = secure_token(32);
  s.nation = login->nation;
  s.issuer = login->issuer;
  s.tokens = std::move(*tokens);
  s.user = json_or_null(me);
  spdlog::info("web: {} signed in at {}", s.user.value("preferred_username", std::string("?")), s.nation);
  return SignedIn{sessions_.create(std::move(s)), login->return_to};
}

std::shared_ptr<SessionEntry> Bff::session(const std::optional<std::string>& id) {
  return id ? sessions_.find(*id) : nullptr;
}

BffResult<std::string> Bff::access_token(const std::string& session_id, SessionEntry& s) {
  MutexLock refresh(s.refresh_mu);
  WebSession now_s = s.snapshot();
  const SystemTime now = clock_.wall();
  if (now_s.tokens.access_expires - now > cfg_.refresh_margin) return now_s.tokens.access_token;
  const bool still_valid = now < now_s.tokens.access_expires;
  if (now_s.tokens.refresh_token.empty()) {
    if (still_valid) return now_s.tokens.access_token;
    sessions_.remove(session_id);
    return err(Kind::Unauthorized, "Your session has ended. Sign in again.");
  }
  net::ClientResponse r;
  try {
    r = send("POST", oidc_endpoint(now_s.issuer, "token"),
             form_body({{"grant_type", "refresh_token"},
                        {"refresh_token", now_s.tokens.refresh_token},
                        {"client_id", cfg_.client_id}}),
             "application/x-www-form-urlencoded", "", "");
  } catch (const std::exception& e) {
    spdlog::warn("web: refreshing a session's tokens at {} failed: {}", now_s.nation, e.what());
    if (still_valid) return now_s.tokens.access_token;
    return err(Kind::Unavailable, "The identity provider of " + now_s.nation + " is unavailable. Try again.");
  }
  if (r.status >= 500) {
    if (still_valid) return now_s.tokens.access_token;
    return err(Kind::Unavailable, "The identity provider of " + now_s.nation + " is unavailable. Try again.");
  }
  auto fresh = r.status == 200 ? tokens_of(json_or_null(r)) : std::nullopt;
  if (!fresh) {
    // Revoked (signed out elsewhere), expired, or reused: the session is over.
    sessions_.remove(session_id);
    return err(Kind::Unauthorized, "Your session has ended. Sign in again.");
  }
  if (fresh->refresh_token.empty()) {
    fresh->refresh_token = now_s.tokens.refresh_token;
    fresh->refresh_expires = now_s.tokens.refresh_expires;
  }
  if (fresh->id_token.empty()) fresh->id_token = now_s.tokens.id_token;
  MutexLock lock(s.mu);
  s.session.tokens = *fresh;
  return fresh->access_token;
}

bool Bff::allowed_api_call(const std::string& method, const std::string& api_path) {
  const std::string path = api_path.substr(0, api_path.find('?'));
  if (path.find("..") != std::string::npos || path.find("//") != std::string::npos) return false;
  auto parts = split(path, '/', true);  // "", "api", ...
  if (parts.size() < 3 || !parts[0].empty() || parts[1] != "api") return false;
  const size_t n = parts.size();
  if (method == "GET") {
    if (n == 3) return parts[2] == "resources";
    if (n == 4 && parts[2] == "auth") return parts[3] == "me";
    if (n == 4 && parts[2] == "federation") return parts[3] == "status";
    if (n == 4 && parts[2] == "resources") return !parts[3].empty();  // an id, or federated-search
    if (n == 5 && parts[2] == "resources") return !parts[3].empty() && parts[4] == "ztdf";
    return false;
  }
  if (method == "POST") {
    if (n == 3) return parts[2] == "resources";
    return n == 5 && parts[2] == "resources" && !parts[3].empty() && parts[4] == "key";
  }
  return false;
}

BffResult<ApiAnswer> Bff::call_api(const std::string& session_id, SessionEntry& s, const std::string& method,
                                   const std::string& api_path, const std::string& body,
                                   const std::string& request_id) {
  if (!allowed_api_call(method, api_path))
    return err(Kind::NotFound, "The console makes no such call: " + method + " " + api_path.substr(0, 100));
  auto token = access_token(session_id, s);
  if (auto* e = std::get_if<BffError>(&token)) return *e;
  net::ClientResponse r;
  try {
    r = send(method, cfg_.api_url + api_path, body, body.empty() ? "" : "application/json",
             std::get<std::string>(token), request_id);
  } catch (const std::exception& e) {
    spdlog::warn("[{}] web: the api did not answer {} {}: {}", request_id, method, api_path.substr(0, 100),
                 e.what());
    return err(Kind::Unavailable, "This instance's api is unavailable. Try again.");
  }
  if (r.status == 401) {
    // The api refused the token (revoked by a sign-out elsewhere, or the user was disabled).
    sessions_.remove(session_id);
    return err(Kind::Unauthorized, "Your session has ended. Sign in again.");
  }
  return ApiAnswer{r.status, r.headers.get("Content-Type").value_or("application/json"), std::move(r.body),
                   r.headers.get("Retry-After").value_or("")};
}

SignedOut Bff::sign_out(const std::string& session_id, const std::string& request_id) {
  auto entry = sessions_.find(session_id);
  if (!entry) return SignedOut{false, "There was no session to end."};
  auto token = access_token(session_id, *entry);
  WebSession s = entry->snapshot();
  sessions_.remove(session_id);
  SignedOut out{false, "Signed out of this console."};
  if (auto* t = std::get_if<std::string>(&token)) {
    try {
      auto r = send("POST", cfg_.api_url + "/api/auth/logout", "", "", *t, request_id);
      if (r.status == 200) {
        out.revoked_everywhere = true;
        out.message = "Signed out: every token of yours is revoked on every instance.";
      }
    } catch (const std::exception& e) {
      spdlog::warn("[{}] web: sign-out: the api did not answer: {}", request_id, e.what());
    }
  }
  if (!s.tokens.refresh_token.empty()) {
    try {
      send("POST", oidc_endpoint(s.issuer, "revoke"),
           form_body({{"token", s.tokens.refresh_token},
                      {"token_type_hint", "refresh_token"},
                      {"client_id", cfg_.client_id}}),
           "application/x-www-form-urlencoded", "", request_id);
    } catch (const std::exception& e) {
      spdlog::warn("[{}] web: sign-out: the refresh token was not revoked at {}: {}", request_id, s.nation,
                   e.what());
    }
  }
  if (!out.revoked_everywhere)
    out.message = "Signed out of this console, but the revocation of your tokens was not confirmed.";
  spdlog::info("[{}] web: {} signed out ({})", request_id,
               s.user.value("preferred_username", std::string("?")),
               out.revoked_everywhere ? "revoked everywhere" : "revocation not confirmed");
  return out;
}

BffResult<Json> Bff::operations(const std::string& session_id, SessionEntry& s,
                                const std::string& request_id) {
  if (!has_role(s.snapshot().user, "admin"))
    return err(Kind::Forbidden, "The operations view is for administrators (role admin).");
  auto token = access_token(session_id, s);
  if (auto* e = std::get_if<BffError>(&token)) return *e;
  auto get = [&](const std::string& url, const std::string& bearer) -> Json {
    try {
      auto r = send("GET", url, "", "", bearer, request_id);
      Json j = json_or_null(r);
      if (j.is_null()) return Json{{"reachable", false}, {"error", "HTTP " + std::to_string(r.status)}};
      return j;
    } catch (const std::exception& e) {
      return Json{{"reachable", false}, {"error", e.what()}};
    }
  };
  Json services = Json::array();
  for (const auto& [name, url] : cfg_.services) {
    Json h = get(url + "/health/detailed", "");
    services.push_back(Json{{"name", name},
                            {"status", h.value("status", std::string("unreachable"))},
                            {"checks", h.value("checks", Json::object())},
                            {"breakers", h.value("circuitBreakers", Json::object())},
                            {"error", h.value("error", std::string())}});
  }
  Json out{{"instance", cfg_.code},
           {"services", services},
           {"revocation", get(cfg_.api_url + "/api/auth/revocations/status", "")},
           {"federation", get(cfg_.api_url + "/api/federation/status", "")}};
  if (cfg_.alertmanager_url.empty()) {
    out["alerts"] = Json{{"available", false}, {"reason", "no monitoring stack is configured"}};
  } else {
    Json alerts =
        get(cfg_.alertmanager_url + "/api/v2/alerts?active=true&silenced=false&inhibited=false", "");
    if (!alerts.is_array()) {
      out["alerts"] = Json{{"available", false}, {"reason", "Alertmanager did not answer"}};
    } else {
      Json list = Json::array();
      for (const Json& a : alerts) {
        const Json labels = a.value("labels", Json::object()), notes = a.value("annotations", Json::object());
        list.push_back(Json{{"name", labels.value("alertname", std::string())},
                            {"severity", labels.value("severity", std::string())},
                            {"instance", labels.value("instance", std::string())},
                            {"summary", notes.value("summary", std::string())},
                            {"since", a.value("startsAt", std::string())}});
      }
      out["alerts"] = Json{{"available", true}, {"active", list}};
    }
  }
  if (out["federation"].value("role", std::string()) == "hub")
    out["spokes"] = get(cfg_.api_url + "/api/federation/spokes", std::get<std::string>(token));
  out["at"] = clock_.unix_millis();
  return out;
}

}  // namespace dive::web
