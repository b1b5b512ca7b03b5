// kas: the key access service. This build wires its dependencies and health; key release arrives with
// the protected-documents capability.
#include "services/runtime/service_context.hpp"
#include "services/service_main.hpp"

namespace dive::services {

void wire_kas(ServiceContext& ctx) {
  ctx.connect(Dependencies{.database = true, .blacklist_redis = true});
  // No key is ever released without a fresh decision: the pdp is critical to the kas.
  ctx.add_service_check("pdp", ctx.config()["urls"]["pdp"], resilience::Impact::Critical);
}

}  // namespace dive::services
