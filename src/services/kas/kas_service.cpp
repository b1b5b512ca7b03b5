// kas: the key access service (docs/DOCUMENTS.md). POST /request-key releases a document's data key only to
// an authenticated, unrevoked caller, for a policy proven bound to the key, on a fresh pdp decision.
#include "services/kas/key_request.hpp"
#include "services/runtime/service_context.hpp"
#include "services/runtime/token_auth.hpp"
#include "services/service_main.hpp"

namespace dive::services {

void wire_kas(ServiceContext& ctx) {
  ctx.connect(Dependencies{.database = true, .blacklist_redis = true});
  // No key is ever released without a fresh decision: the pdp is critical to the kas.
  ctx.add_service_check(Breaker::Pdp, ctx.settings().urls.pdp, resilience::Impact::Critical);
  auto auth = std::make_shared<TokenAuth>(ctx, "dive-kas");
  ctx.keep(auth);
  add_key_request_route(ctx, *auth);
}

}  // namespace dive::services
