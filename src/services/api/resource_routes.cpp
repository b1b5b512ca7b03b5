#include "services/api/resource_routes.hpp"

#include <memory>
#include <optional>
#include <pqxx/pqxx>

#include "access/resource_service.hpp"
#include "audit/event.hpp"
#include "common/periodic.hpp"
#include "common/strings.hpp"
#include "documents/kas_keys.hpp"
#include "documents/pg_resource_store.hpp"
#include "federation/fanout.hpp"
#include "policy/bundle_store.hpp"
#include "services/api/federation.hpp"
#include "services/runtime/audit_events.hpp"
#include "services/runtime/outcomes.hpp"
#include "services/runtime/service_context.hpp"
#include "services/runtime/token_auth.hpp"
#include "store/pg_pool.hpp"

namespace dive::services {

namespace {

struct ApiParts {
  std::unique_ptr<documents::PgResourceStore> store;
  std::unique_ptr<access::PdpClient> pdp;
  std::unique_ptr<access::DecisionCache> cache;
  std::unique_ptr<access::Authorizer> authorizer;
  std::unique_ptr<access::ResourceService> resources;
  std::unique_ptr<Periodic> revision_poll;  // last: stopped first (it writes into the cache)
};

// The answer to a document operation: an ok result's data with `ok_status`, else the outcome's error.
net::Response respond(access::Result r, const net::Request& req, int ok_status) {
  if (!r.outcome.ok()) return error_response(r.outcome, req.request_id);
  if (!r.text.empty()) return net::Response::text(ok_status, std::move(r.text), "application/json");
  return net::Response::json(ok_status, r.data);
}

// The reason a failure is recorded with when the operation set none: a denial's decision reason, else
// its message.
std::string failure_reason(const access::Outcome& o) {
  if (o.reason() && o.reason()->is_string() && !o.reason()->get_ref<const std::string&>().empty())
    return o.reason()->get<std::string>();
  return o.message();
}

// The audit record of a document operation (docs/AUDIT.md), then the answer. The outcome and reason are
// the operation's (the policy's decision and reason); when it set none, they follow from its outcome, and
// a failure's details are its status.
net::Response audited(audit::Recorder& trail, const char* type, const net::Request& req,
                      const identity::VerifiedToken& t, const std::string& resource, access::Result r,
                      int ok_status = 200) {
  audit::Event e = request_event(req, t, type);
  e.resource = r.audit.resource.empty() ? resource : r.audit.resource;
  e.outcome = !r.audit.outcome.empty() ? r.audit.outcome : audit_outcome(r.outcome);
  e.reason = r.audit.reason;
  if (e.reason.empty() && !r.outcome.ok()) e.reason = failure_reason(r.outcome);
  e.details = std::move(r.audit.details);
  if (!r.outcome.ok() && e.details == "{}")
    e.details = "{\"status\":" + std::to_string(http_status(r.outcome)) + "}";
  trail.record(std::move(e));
  return respond(std::move(r), req, ok_status);
}

// A request for a document of another instance (doc-<CODE>-...), answered by that instance with the
// caller's own token; nullopt when the document is this instance's.
std::optional<net::Response> route_to_origin(ServiceContext& ctx, FederationView& fed, net::Request& req,
                                             const std::string& suffix, Millis timeout) {
  const std::string& id = req.params["id"];
  const std::string origin = federation::origin_of(id);
  if (origin.empty() || origin == ctx.code()) return std::nullopt;
  auto partner = fed.partner(origin);
  if (!partner)
    return net::Response::error(
        404, "Not Found",
        "resource " + id + " belongs to " + origin + ", which is not a member of this federation",
        req.request_id);
  auto f = federation::forward_to_origin(*partner, ctx.http(), req.method, "/api/resources/" + id + suffix,
                                         req.body, req.bearer_token().value_or(""), req.request_id, timeout);
  if (f.outcome == federation::Forwarded::Outcome::Answered) {
    auto r = net::Response::text(f.status, std::move(f.body), f.content_type);
    r.headers.set("X-Dive-Origin", origin);
    return r;
  }
  Json body{{"error", "Service Unavailable"},
            {"reason", "origin_unavailable"},
            {"origin", origin},
            {"message", "the origin instance " + origin + " of " + id + " is not reachable: " + f.error},
            {"requestId", req.request_id}};
  auto r = net::Response::json(503, body);
  r.headers.set("Retry-After", "5");
  r.headers.set("X-Dive-Origin", origin);
  return r;
}

// The federation members' KAS as the resource service looks them up (access::KasRegistry), read from
// `fed`.
access::KasRegistry kas_registry(FederationView& fed) {
  return access::KasRegistry{
      [f = &fed](const std::string& code) -> std::optional<ztdf::KasPublicKey> {
        auto k = f->kas_of(code);
        if (!k) return std::nullopt;
        try {
          return ztdf::KasPublicKey{k->url, k->kid, ztdf::PublicKey::from_pem(k->public_key_pem)};
        } catch (const std::exception&) {
          return std::nullopt;  // a member whose KAS key does not parse is not wrapped for
        }
      },
      [f = &fed](const std::string& url) { return f->is_member_kas(url); }};
}

// The api's document parts, wired: the PDP client, the decision cache, the authorizer, the store and the
// resource service, and the poll that keeps the cache on the active policy bundle.
std::shared_ptr<ApiParts> make_api_parts(ServiceContext& ctx, FederationView& fed) {
  const UrlSettings& urls = ctx.settings().urls;
  const ApiSettings& api = ctx.settings().api;
  auto p = std::make_shared<ApiParts>();
  p->pdp =
      std::make_unique<access::PdpClient>(ctx.http(), ctx.breaker(Breaker::Pdp), urls.pdp, api.pdp_timeout);
  // api.decision_cache false keeps no decision, the pdp is asked every time (benchmarks, debugging).
  if (api.decision_cache)
    p->cache = std::make_unique<access::TtlDecisionCache>(ctx.clock(), api.decision_cache_capacity);
  else
    p->cache = std::make_unique<access::NullDecisionCache>();
  p->authorizer = std::make_unique<access::Authorizer>(*p->pdp, *p->cache, &ctx.registry());
  p->store = std::make_unique<documents::PgResourceStore>(ctx.db());
  p->resources = std::make_unique<access::ResourceService>(
      access::ResourceServiceDeps{*p->store, *p->authorizer, ctx.http(), ctx.breaker(Breaker::Kas), urls.kas,
                                  ctx.code(), api.kas_timeout, kas_registry(fed), api.kas_former_urls});
  access::DecisionCache* cache = p->cache.get();
  // The decision cache follows the instance's active policy bundle: a change takes effect at once
  // (docs/POLICY.md).
  p->revision_poll = std::make_unique<Periodic>(
      ctx.settings().policy.poll_interval,
      [cache, c = &ctx] {
        cache->set_revision(
            c->db().with([](pqxx::connection& conn) { return policy::active_bundle_revision(conn); }));
      },
      [](const std::string&) {}, true);
  return p;
}

// The list and upload routes, and the routes of one document (read, ZTDF, key), which a document of
// another instance forwards to its origin.
void add_document_routes(ServiceContext& ctx, TokenAuth& auth, FederationView& fed,
                         access::ResourceService* rs) {
  auto& r = ctx.router();
  audit::Recorder* trail = &ctx.audit();
  r.add("GET", "/api/resources",
        auth.protect([rs, trail](net::Request& req, const identity::VerifiedToken& t) {
          return audited(*trail, "access.list", req, t, "", rs->list(t, req.query, req.request_id));
        }));
  r.add("POST", "/api/resources",
        auth.protect([rs, trail](net::Request& req, const identity::VerifiedToken& t) {
          // A new document: 201 Created.
          return audited(*trail, "access.upload", req, t, "", rs->upload(t, req.body, req.request_id), 201);
        }));
  const Millis origin_timeout = ctx.settings().api.origin_timeout;
  ServiceContext* c = &ctx;
  FederationView* fv = &fed;
  r.add("GET", "/api/resources/{id}",
        auth.protect([rs, c, fv, trail, origin_timeout](net::Request& req, const identity::VerifiedToken& t) {
          if (auto routed = route_to_origin(*c, *fv, req, "", origin_timeout)) return std::move(*routed);
          const std::string& id = req.params["id"];
          return audited(*trail, "access.read", req, t, id, rs->read(t, id, req.request_id));
        }));
  r.add("GET", "/api/resources/{id}/ztdf",
        auth.protect([rs, c, fv, trail, origin_timeout](net::Request& req, const identity::VerifiedToken& t) {
          if (auto routed = route_to_origin(*c, *fv, req, "/ztdf", origin_timeout)) return std::move(*routed);
          const std::string& id = req.params["id"];
          return audited(*trail, "access.read", req, t, id, rs->ztdf(t, id, req.request_id));
        }));
  r.add("POST", "/api/resources/{id}/key",
        auth.protect([rs, c, fv, trail, origin_timeout](net::Request& req, const identity::VerifiedToken& t) {
          if (auto routed = route_to_origin(*c, *fv, req, "/key", origin_timeout)) return std::move(*routed);
          const std::string& id = req.params["id"];
          return audited(*trail, "access.key_request", req, t, id,
                         rs->key(t, id, req.body, req.bearer_token().value_or(""), req.request_id));
        }));
}

// The filters of a federated search (query, classification, releasableTo, coi) and its limit, read into
// `sr`; false when the limit is not a whole number between 1 and 100.
bool read_search_filters(const net::Request& req, federation::SearchRequest& sr) {
  for (const char* k : {"query", "classification", "releasableTo", "coi"})
    if (auto it = req.query.find(k); it != req.query.end() && !it->second.empty()) sr.query[k] = it->second;
  if (auto it = req.query.find("limit"); it != req.query.end()) {
    auto v = parse_int(it->second);
    if (!v || *v < 1 || *v > 100) return false;
    sr.limit = static_cast<int>(*v);
  }
  return true;
}

// GET /api/resources/federated-search: this instance's own list and every partner's, merged
// (docs/FEDERATION.md).
net::Response answer_federated_search(access::ResourceService& rs, ServiceContext& c, FederationView& fv,
                                      Millis deadline, net::Request& req, const identity::VerifiedToken& t) {
  federation::SearchRequest sr;
  sr.deadline = deadline;
  sr.bearer_token = req.bearer_token().value_or("");
  if (!read_search_filters(req, sr))
    return net::Response::error(400, "Bad Request", "limit must be a whole number between 1 and 100",
                                req.request_id);
  // The own page first: a bad filter is the caller's error (400), not a partial result.
  auto own = rs.list(
      t,
      [&] {
        auto q = sr.query;
        q["limit"] = std::to_string(sr.limit);
        return q;
      }(),
      req.request_id);
  const int own_status = http_status(own.outcome);
  if (own_status >= 400 && own_status < 500)
    return audited(c.audit(), "access.list", req, t, "", std::move(own));
  {
    audit::Event e = request_event(req, t, "access.list");
    e.outcome = own.outcome.ok() ? audit::kAllow : audit::kFailure;
    e.reason = "federated search (this instance's page; partners record their own)";
    e.details = own.audit.details;
    c.audit().record(std::move(e));
  }
  Json own_body = !own.outcome.ok()  ? error_body(own.outcome)
                  : own.text.empty() ? own.data
                                     : Json::parse(own.text);
  auto local = [&](const std::map<std::string, std::string>&) { return std::pair{own_status, own_body}; };
  auto res = federation::federated_search(c.code(), local, fv.partners(), c.http(), sr);
  return net::Response::json(200, res.to_json());
}

}  // namespace

void add_resource_routes(ServiceContext& ctx, TokenAuth& auth, FederationView& fed) {
  auto p = make_api_parts(ctx, fed);
  access::ResourceService* rs = p->resources.get();
  access::DecisionCache* cache = p->cache.get();
  ctx.keep(p);

  ctx.add_check("cache", resilience::Impact::Important, [cache] {
    return resilience::CheckResult{true, "", Json{{"decisions", cache->size()}}};
  });

  add_document_routes(ctx, auth, fed, rs);
  const Millis search_deadline = ctx.settings().api.federated_search_deadline;
  ctx.router().add("GET", "/api/resources/federated-search",
                   auth.protect([rs, c = &ctx, fv = &fed, search_deadline](net::Request& req,
                                                                           const identity::VerifiedToken& t) {
                     return answer_federated_search(*rs, *c, *fv, search_deadline, req, t);
                   }));
}

}  // namespace dive::services
