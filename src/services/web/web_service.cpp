// web: the console (docs/WEB.md). Its own files (compiled into the binary) and its backend-for-frontend:
// sign-in with the authorization code flow + PKCE, the session on the server, the api called as the user.
#include <memory>

#include "common/clock.hpp"
#include "net/https_client.hpp"
#include "net/https_server.hpp"
#include "services/runtime/service_context.hpp"
#include "services/service_main.hpp"
#include "web/bff.hpp"
#include "web/bff_routes.hpp"
#include "web/console_routes.hpp"
#include "web/security_headers.hpp"

namespace dive::services {

namespace {

web::BffConfig bff_config(const ServiceContext& ctx) {
  const Json& c = ctx.config();
  const Json urls = c.value("urls", Json::object());
  web::BffConfig b;
  b.code = ctx.code();
  b.hub = c.value("role", "") == "hub";
  b.web_url = urls.value("web", "");
  b.api_url = urls.value("api", "");
  b.issuer = c.value("issuer", "");
  if (b.web_url.empty() || b.api_url.empty() || b.issuer.empty())
    throw std::runtime_error("instance.json has no urls.web, urls.api or issuer");
  b.alertmanager_url = c.value("monitoring", Json::object()).value("alertmanager_url", "");
  for (const char* name : {"api", "idp", "pdp", "kas", "web"})
    if (std::string url = urls.value(name, ""); !url.empty()) b.services.emplace_back(name, url);
  const Json web = c.value("web", Json::object());
  b.upstream_timeout = Millis(web.value("upstream_timeout_ms", 5000));
  return b;
}

}  // namespace

void wire_web(ServiceContext& ctx) {
  // No database, no Redis: the HTTPS client only (this instance's CA and the federation's CA set).
  ctx.connect(Dependencies{});
  // Every response, the health routes and the server's own errors included, carries them.
  ctx.server_config().default_headers = web::security_headers();
  web::add_console_routes(ctx.router(), web::AssetTable::builtin());
  auto bff = std::make_shared<web::Bff>(bff_config(ctx), ctx.http(), Clock::system());
  ctx.keep(bff);
  web::add_bff_routes(ctx.router(), bff, ctx.registry());
  // Without its api the console can sign no one in and show nothing: degraded, not dead (it still serves
  // its pages and says why).
  ctx.add_service_check("api", bff->config().api_url, resilience::Impact::Important);
}

}  // namespace dive::services
