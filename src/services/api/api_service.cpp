// api: the policy enforcement point and REST API (docs/ARCHITECTURE.md). This build wires its dependencies,
// the health rules of docs/RESILIENCE.md (unhealthy without database or pdp; degraded without idp, kas or the
// blacklist) and token authentication with the /api/auth routes, and the document routes (/api/resources).
#include "services/api/audit_routes.hpp"
#include "services/api/auth_routes.hpp"
#include "services/api/federation.hpp"
#include "services/api/federation_hub.hpp"
#include "services/api/resource_routes.hpp"
#include "services/runtime/service_context.hpp"
#include "services/runtime/token_auth.hpp"
#include "services/service_main.hpp"

namespace dive::services {

void wire_api(ServiceContext& ctx) {
  ctx.connect(Dependencies{.database = true, .blacklist_redis = true});
  const UrlSettings& urls = ctx.settings().urls;
  ctx.add_service_check(Breaker::Pdp, urls.pdp, resilience::Impact::Critical);
  ctx.add_service_check(Breaker::Idp, urls.idp, resilience::Impact::Important);
  ctx.add_service_check(Breaker::Kas, urls.kas, resilience::Impact::Important);
  auto auth = std::make_shared<TokenAuth>(ctx, "dive-api");
  ctx.keep(auth);
  add_auth_routes(ctx, *auth);
  auto federation = add_federation(ctx);
  if (ctx.settings().hub()) add_hub_admin_routes(ctx, *auth);
  add_resource_routes(ctx, *auth, *federation);
  add_audit_routes(ctx, *auth);
}

}  // namespace dive::services
