// pdp: the policy decision point. This build wires its dependencies and health; the decision API
// arrives with the policy engine.
#include "services/runtime/service_context.hpp"
#include "services/service_main.hpp"

namespace dive::services {

void wire_pdp(ServiceContext& ctx) {
  ctx.connect(Dependencies{.database = true});  // bundle revisions and the decision log live here
}

}  // namespace dive::services
