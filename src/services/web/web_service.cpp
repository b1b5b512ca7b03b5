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
  const ServiceSettings& s = ctx.settings();
  web::BffConfig b;
  b.code = ctx.code();
  b.hub = s.hub();
  b.web_url = s.urls.web;
  b.api_url = s.urls.api;
  b.issuer = s.issuer;
  if (b.web_url.empty() || b.api_url.empty() || b.issuer.empty())
    throw std::runtime_error("instance.json has no urls.web, urls.api or issuer");
  b.alertmanager_url = s.web.alertmanager_url;
  for (const auto& [name, url] :
       {std::pair{"api", s.urls.api}, std::pair{"idp", s.urls.idp}, std::pair{"pdp", s.urls.pdp},
        std::pair{"kas", s.urls.kas}, std::pair{"web", s.urls.web}})
    if (!url.empty()) b.services.emplace_back(name, url);
  b.upstream_timeout = s.web.upstream_timeout;
  return b;
}

}  // namespace

void wire_web(ServiceContext& ctx) {
  // No database, no Redis: the HTTPS client only (this instance's CA and the federation's CA set).
  ctx.connect(Dependencies{});
  // Every response, the health routes and the server's own errors included, carries them.
  ctx.server_config().default_headers = web::security_headers();
  web::add_console_routes(ctx.router(), web::AssetTable::builtin());
  auto bff = std::make_shared<web::Bff>(bff_config(ctx), ctx.http(), ctx.clock());
  ctx.keep(bff);
  web::add_bff_routes(ctx.router(), bff, ctx.registry());
  // Without its api the console can sign no one in and show nothing: degraded, not dead (it still serves
  // its pages and says why).
  ctx.add_service_check(Breaker::Api, bff->config().api_url, resilience::Impact::Important);
}

}  // namespace dive::services
