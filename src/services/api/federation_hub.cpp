#include "services/api/federation_hub.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "common/encoding.hpp"
#include "common/fs.hpp"
#include "common/random.hpp"
#include "documents/kas_keys.hpp"
#include "federation/enrollment.hpp"
#include "federation/instance_state.hpp"
#include "federation/registry.hpp"
#include "federation/trust_bundle.hpp"
#include "identity/keys.hpp"
#include "identity/redis_blacklist.hpp"
#include "identity/revocation_event.hpp"
#include "identity/revocation_limits.hpp"
#include "services/runtime/service_context.hpp"
#include "services/runtime/token_auth.hpp"
#include "store/pg_pool.hpp"

namespace dive::services {

namespace fed = dive::federation;

namespace {

// The instance's KAS key (kid, public PEM) from its database; the kas creates it at start. Throws while there
// is none yet (the registration is retried).
std::pair<std::string, std::string> own_kas_key(ServiceContext& ctx) {
  auto k = ctx.db().with([](pqxx::connection& c) { return documents::active_kas_public_key(c); });
  if (!k) throw std::runtime_error("the kas has not created its key yet");
  return {k->kid, k->public_key.to_pem()};
}

// ---------------------------------------------------------------- the hub's registry routes

net::Response refuse(int status, const std::string& error, const std::string& message,
                     const net::Request& req, Json extra = Json::object()) {
  extra["error"] = error;
  extra["message"] = message;
  extra["requestId"] = req.request_id;
  return net::Response::json(status, extra);
}

class HubRegistry {
 public:
  explicit HubRegistry(ServiceContext& ctx)
      : ctx_(ctx),
        paths_(fed::FederationPaths::of(ctx.settings().dir)),
        heartbeat_every_(ctx.settings().federation.heartbeat_interval) {}

  net::Response ca(const net::Request&) {
    return net::Response::text(200, own_ca_pem(ctx_), "application/x-pem-file");
  }

  net::Response register_spoke(const net::Request& req) {
    Json body;
    try {
      body = Json::parse(req.body);
    } catch (const Json::parse_error&) {
      return refuse(400, "bad_request", "the body must be JSON", req);
    }
    fed::Registration reg;
    try {
      reg = fed::Registration::from_json(body.value("registration", Json()));
    } catch (const std::exception& e) {
      return refuse(400, "bad_request", std::string("invalid registration: ") + e.what(), req);
    }
    if (reg.code == ctx_.code()) return refuse(409, "conflict", reg.code + " is the hub's own code", req);
    auto key = signing_key();
    if (!key)
      return refuse(503, "federation_unavailable", "the hub has no bundle key yet (redeploy the hub)", req);
    std::string token = body.value("enrollmentToken", "");
    auto res = ctx_.db().with([&](pqxx::connection& c) {
      return fed::register_spoke(c, reg, token, "register from " + req.remote_ip, secure_token(32));
    });
    switch (res.outcome) {
      case fed::RegisterOutcome::Approved:
      case fed::RegisterOutcome::Pending:
        break;
      case fed::RegisterOutcome::TokenUnknown:
        return refuse(403, "enrollment_refused", "the enrollment token is not known for " + reg.code, req,
                      Json{{"reason", "token_unknown"}});
      case fed::RegisterOutcome::TokenUsed:
        return refuse(403, "enrollment_refused", "the enrollment token was used already; ask for a new one",
                      req, Json{{"reason", "token_used"}});
      case fed::RegisterOutcome::TokenExpired:
        return refuse(403, "enrollment_refused", "the enrollment token expired; ask for a new one", req,
                      Json{{"reason", "token_expired"}});
      case fed::RegisterOutcome::AlreadyEnrolled:
        return refuse(409, "already_enrolled",
                      reg.code + " is already enrolled; its operator rotates its credential at the hub", req,
                      Json{{"reason", "already_enrolled"}});
      case fed::RegisterOutcome::Revoked:
        return refuse(403, "enrollment_refused", reg.code + " was revoked by the hub", req,
                      Json{{"reason", "revoked"}});
    }
    int64_t revision = 0;
    if (res.outcome == fed::RegisterOutcome::Approved) revision = publish(*key);
    spdlog::info("federation: {} registered from {} ({})", reg.code, req.remote_ip,
                 fed::to_string(res.outcome));
    return net::Response::json(res.outcome == fed::RegisterOutcome::Approved ? 201 : 202,
                               Json{{"status", fed::to_string(res.status)},
                                    {"code", reg.code},
                                    {"credential", res.credential},
                                    {"hubCode", ctx_.code()},
                                    {"bundleKeyPem", key->public_key().to_pem()},
                                    {"bundleRevision", revision}});
  }

  net::Response heartbeat(const net::Request& req) {
    auto spoke = authenticate(req);
    if (!spoke) return refuse(401, "unauthorized", "unknown spoke or wrong credential", req);
    Json body;
    try {
      body = Json::parse(req.body.empty() ? "{}" : req.body);
    } catch (const Json::parse_error&) {
      return refuse(400, "bad_request", "the body must be JSON", req);
    }
    if (!body.is_object()) return refuse(400, "bad_request", "the body must be a JSON object", req);
    Json health = body.value("health", Json::object());
    if (!health.is_object()) health = Json::object();
    int64_t rev = body.contains("bundleRevision") && body["bundleRevision"].is_number_integer()
                      ? body["bundleRevision"].get<int64_t>()
                      : 0;
    auto st = ctx_.db().with(
        [&](pqxx::connection& c) { return fed::record_heartbeat(c, spoke->reg.code, health, rev); });
    if (!st)
      return refuse(403, "not_approved", spoke->reg.code + " is " + fed::to_string(spoke->status), req,
                    Json{{"status", fed::to_string(spoke->status)}});
    auto latest = ctx_.db().with([](pqxx::connection& c) { return fed::latest_bundle(c); });
    // The peers the spoke should not call: suspended, or without recent heartbeats.
    Json peers = Json::object();
    auto now = ctx_.clock().wall();
    for (const auto& s : ctx_.db().with([](pqxx::connection& c) { return fed::list_spokes(c); })) {
      if (s.reg.code == spoke->reg.code) continue;
      if (s.status == fed::SpokeStatus::Suspended)
        peers[s.reg.code] = "suspended";
      else if (s.stale(now, heartbeat_every_))
        peers[s.reg.code] = "stale";
    }
    return net::Response::json(200, Json{{"peers", peers},
                                         {"status", fed::to_string(*st)},
                                         {"bundleRevision", latest ? latest->revision : 0},
                                         {"heartbeatIntervalMs", heartbeat_every_.count()}});
  }

  // A spoke's own revocations into the hub's revocation store (only events it made: no spoke revokes
  // another nation's users or tokens).
  net::Response push_revocations(const net::Request& req) {
    auto spoke = authenticate(req);
    if (!spoke) return refuse(401, "unauthorized", "unknown spoke or wrong credential", req);
    if (spoke->status != fed::SpokeStatus::Approved && spoke->status != fed::SpokeStatus::Suspended)
      return refuse(403, "not_approved", spoke->reg.code + " is " + fed::to_string(spoke->status), req,
                    Json{{"status", fed::to_string(spoke->status)}});
    Json body;
    try {
      body = Json::parse(req.body);
    } catch (const Json::parse_error&) {
      return refuse(400, "bad_request", "the body must be JSON", req);
    }
    if (!body.is_object() || !body.contains("events") || !body["events"].is_array() ||
        body["events"].size() > 10000)
      return refuse(400, "bad_request", "expected {\"events\": [...]} (at most 10000)", req);
    std::vector<identity::RevocationEvent> events;
    for (const auto& j : body["events"]) {
      auto e = identity::RevocationEvent::from_json(j);
      if (!e) return refuse(400, "bad_request", "an event is not a revocation event", req);
      if (e->instance != spoke->reg.code)
        return refuse(403, "forbidden", spoke->reg.code + " may relay only its own revocations", req);
      events.push_back(std::move(*e));
    }
    identity::RedisBlacklist hub(ctx_.blacklist(), ctx_.breaker(Breaker::BlacklistRedis));
    try {
      for (const auto& e : events) hub.push(e, ctx_.settings().revocation.user_retention);
    } catch (const std::exception& e) {
      return refuse(503, "unavailable", std::string("the revocation store is unavailable: ") + e.what(), req);
    }
    return net::Response::json(200, Json{{"accepted", events.size()}});
  }

  // Every revocation in the hub's store, for spokes on other machines (ETag: they poll).
  net::Response pull_revocations(const net::Request& req) {
    auto spoke = authenticate(req);
    if (!spoke) return refuse(401, "unauthorized", "unknown spoke or wrong credential", req);
    if (spoke->status == fed::SpokeStatus::Revoked || spoke->status == fed::SpokeStatus::Pending)
      return refuse(403, "not_approved", spoke->reg.code + " is " + fed::to_string(spoke->status), req,
                    Json{{"status", fed::to_string(spoke->status)}});
    identity::RedisBlacklist hub(ctx_.blacklist(), ctx_.breaker(Breaker::BlacklistRedis));
    std::vector<identity::RevocationEvent> all;
    try {
      all = hub.snapshot();
    } catch (const std::exception& e) {
      return refuse(503, "unavailable", std::string("the revocation store is unavailable: ") + e.what(), req);
    }
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.key() < b.key(); });
    Json events = Json::array();
    for (const auto& e : all) events.push_back(e.to_json());
    std::string text = Json{{"events", events}}.dump();
    std::string etag = "\"" + sha256_hex(text).substr(0, 32) + "\"";
    if (req.headers.get("If-None-Match").value_or("") == etag) {
      net::Response r;
      r.status = 304;
      r.headers.set("ETag", etag);
      return r;
    }
    auto r = net::Response::text(200, std::move(text), "application/json");
    r.headers.set("ETag", etag);
    return r;
  }

  net::Response bundle(const net::Request& req) {
    auto spoke = authenticate(req);
    if (!spoke) return refuse(401, "unauthorized", "unknown spoke or wrong credential", req);
    if (spoke->status != fed::SpokeStatus::Approved)
      return refuse(403, "not_approved", spoke->reg.code + " is " + fed::to_string(spoke->status), req,
                    Json{{"status", fed::to_string(spoke->status)}});
    auto latest = ctx_.db().with([](pqxx::connection& c) { return fed::latest_bundle(c); });
    if (!latest) return refuse(503, "federation_unavailable", "no trust bundle published yet", req);
    std::string etag = "\"" + std::to_string(latest->revision) + "\"";
    if (req.headers.get("If-None-Match").value_or("") == etag) {
      net::Response r;
      r.status = 304;
      r.headers.set("ETag", etag);
      return r;
    }
    auto r = net::Response::text(200, latest->jws, "application/jose");
    r.headers.set("ETag", etag);
    return r;
  }

 private:
  std::optional<fed::SpokeRecord> authenticate(const net::Request& req) {
    auto c = fed::parse_credential_header(req.headers.get("Authorization").value_or(""));
    if (c.code.empty()) return std::nullopt;
    return ctx_.db().with(
        [&](pqxx::connection& conn) { return fed::authenticate_spoke(conn, c.code, c.secret); });
  }

  std::optional<identity::SigningKey> signing_key() {
    auto text = try_read_file(paths_.bundle_key);
    if (!text) return std::nullopt;
    return identity::SigningKey::from_pem(*text);
  }

  int64_t publish(const identity::SigningKey& key) {
    auto [kid, pem] = own_kas_key(ctx_);
    auto hub = fed::member_from_instance(ctx_.config(), own_ca_pem(ctx_), kid, pem);
    return ctx_.db().with([&](pqxx::connection& c) {
      return fed::publish_bundle(c, fed::bundle_from_registry(hub, fed::list_spokes(c)), key).revision;
    });
  }

  ServiceContext& ctx_;
  fed::FederationPaths paths_;
  Millis heartbeat_every_;  // federation.heartbeat_interval_ms (settings.hpp)
};

}  // namespace

void add_hub_registry(ServiceContext& ctx) {
  auto hub = std::make_shared<HubRegistry>(ctx);
  ctx.keep(hub);
  auto& r = ctx.router();
  r.add("GET", "/api/federation/ca", [h = hub.get()](net::Request& req) { return h->ca(req); });
  r.add("POST", "/api/federation/register",
        [h = hub.get()](net::Request& req) { return h->register_spoke(req); });
  r.add("POST", "/api/federation/heartbeat",
        [h = hub.get()](net::Request& req) { return h->heartbeat(req); });
  r.add("GET", "/api/federation/bundle", [h = hub.get()](net::Request& req) { return h->bundle(req); });
  r.add("POST", "/api/federation/revocations",
        [h = hub.get()](net::Request& req) { return h->push_revocations(req); });
  r.add("GET", "/api/federation/revocations",
        [h = hub.get()](net::Request& req) { return h->pull_revocations(req); });
}

void add_hub_admin_routes(ServiceContext& ctx, TokenAuth& auth) {
  const Millis every = ctx.settings().federation.heartbeat_interval;
  ctx.router().add(
      "GET", "/api/federation/spokes",
      auth.protect([c = &ctx, every](net::Request& req, const identity::VerifiedToken& t) {
        const Json roles = t.claims.value("roles", Json::array());
        if (!roles.is_array() || std::find(roles.begin(), roles.end(), Json("admin")) == roles.end())
          return refuse(403, "forbidden", "the list of spokes is for administrators (role admin)", req);
        try {
          const auto now = c->clock().wall();
          Json spokes = Json::array();
          for (const auto& s : c->db().with([](pqxx::connection& conn) { return fed::list_spokes(conn); }))
            spokes.push_back(s.to_json(now, every));
          return net::Response::json(200, Json{{"spokes", spokes}, {"heartbeatIntervalMs", every.count()}});
        } catch (const store::PgUnavailable&) {
          return refuse(503, "unavailable", "the registry's database is unavailable", req);
        }
      }));
}

}  // namespace dive::services
