// web: the console (docs/WEB.md). This slice serves the console's own files (compiled into the binary) under
// the security headers of every response; sign-in through a backend-for-frontend comes next.
#include "net/https_server.hpp"
#include "services/runtime/service_context.hpp"
#include "services/service_main.hpp"
#include "web/console_routes.hpp"
#include "web/security_headers.hpp"

namespace dive::services {

void wire_web(ServiceContext& ctx) {
  // Every response, the health routes and the server's own errors included, carries them.
  ctx.server_config().default_headers = web::security_headers();
  web::add_console_routes(ctx.router(), web::AssetTable::builtin());
}

}  // namespace dive::services
