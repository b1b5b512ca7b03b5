// idp: the OpenID Connect provider of this instance. This build wires its dependencies and health;
// the OIDC endpoints arrive with the identity capability.
#include "services/runtime/service_context.hpp"
#include "services/service_main.hpp"

namespace dive::services {

void wire_idp(ServiceContext& ctx) {
  ctx.connect(Dependencies{.database = true});  // realm, users, credentials and signing keys live here
}

}  // namespace dive::services
