// kas: the key access service. This build wires its dependencies, its health and token authentication:
// POST /request-key is answered only for an authenticated, unrevoked token (401/503 otherwise); key
// release itself arrives with the protected-documents capability.
#include "services/runtime/service_context.hpp"
#include "services/runtime/token_auth.hpp"
#include "services/service_main.hpp"

namespace dive::services {

void wire_kas(ServiceContext& ctx) {
  ctx.connect(Dependencies{.database = true, .blacklist_redis = true});
  // No key is ever released without a fresh decision: the pdp is critical to the kas.
  ctx.add_service_check("pdp", ctx.config()["urls"]["pdp"], resilience::Impact::Critical);
  auto auth = std::make_shared<TokenAuth>(ctx, "dive-kas");
  ctx.keep(auth);
  ctx.router().add(
      "POST", "/request-key", auth->protect([](net::Request& req, const identity::VerifiedToken&) {
        return net::Response::error(501, "Not Implemented", "Key release is not available in this build",
                                    req.request_id);
      }));
}

}  // namespace dive::services
