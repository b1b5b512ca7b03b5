#include "services/api/resource_routes.hpp"

#include <memory>

#include "access/resource_service.hpp"
#include "documents/kas_keys.hpp"
#include "services/runtime/service_context.hpp"
#include "services/runtime/token_auth.hpp"
#include "store/pg_pool.hpp"

namespace dive::services {

namespace {

struct ApiParts {
  std::unique_ptr<access::PdpClient> pdp;
  std::unique_ptr<access::DecisionCache> cache;
  std::unique_ptr<access::Authorizer> authorizer;
  std::unique_ptr<access::ResourceService> resources;
};

net::Response respond(access::ApiResult r, const net::Request& req) {
  if (!r.text.empty()) return net::Response::text(r.status, std::move(r.text), "application/json");
  if (r.status >= 400 && r.body.is_object()) r.body["requestId"] = req.request_id;
  return net::Response::json(r.status, r.body);
}

}  // namespace

void add_resource_routes(ServiceContext& ctx, TokenAuth& auth) {
  const Json& urls = ctx.config()["urls"];
  const Json api_cfg = ctx.config().value("api", Json::object());
  auto p = std::make_shared<ApiParts>();
  p->pdp = std::make_unique<access::PdpClient>(ctx.http(), ctx.breaker("pdp"), urls.value("pdp", ""),
                                               Millis(api_cfg.value("pdp_timeout_ms", 2000)));
  p->cache = std::make_unique<access::DecisionCache>(
      Clock::system(), api_cfg.value("decision_cache_capacity", size_t{100000}));
  // api.decision_cache (default true): false asks the pdp for every decision (benchmarks, debugging).
  p->authorizer = std::make_unique<access::Authorizer>(
      *p->pdp, *p->cache, api_cfg.value("decision_cache", true), &ctx.registry());
  p->resources = std::make_unique<access::ResourceService>(access::ResourceServiceDeps{
      ctx.db(), *p->authorizer, ctx.http(), ctx.breaker("kas"), urls.value("kas", ""), ctx.code(),
      documents::decode_key_encryption_key(ctx.secrets().value("kas_key_encryption_key", "")),
      Millis(api_cfg.value("kas_timeout_ms", 5000))});
  access::ResourceService* rs = p->resources.get();
  access::DecisionCache* cache = p->cache.get();
  ctx.keep(p);

  ctx.add_check("cache", resilience::Impact::Important, [cache] {
    return resilience::CheckResult{true, "", Json{{"decisions", cache->size()}}};
  });

  auto& r = ctx.router();
  r.add("GET", "/api/resources", auth.protect([rs](net::Request& req, const identity::VerifiedToken& t) {
    return respond(rs->list(t, req.query, req.request_id), req);
  }));
  r.add("POST", "/api/resources", auth.protect([rs](net::Request& req, const identity::VerifiedToken& t) {
    return respond(rs->upload(t, req.body, req.request_id), req);
  }));
  r.add("GET", "/api/resources/{id}", auth.protect([rs](net::Request& req, const identity::VerifiedToken& t) {
    return respond(rs->read(t, req.params["id"], req.request_id), req);
  }));
  r.add("GET", "/api/resources/{id}/ztdf",
        auth.protect([rs](net::Request& req, const identity::VerifiedToken& t) {
          return respond(rs->ztdf(t, req.params["id"], req.request_id), req);
        }));
  r.add("POST", "/api/resources/{id}/key",
        auth.protect([rs](net::Request& req, const identity::VerifiedToken& t) {
          return respond(
              rs->key(t, req.params["id"], req.body, req.bearer_token().value_or(""), req.request_id), req);
        }));
}

}  // namespace dive::services
