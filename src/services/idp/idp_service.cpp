// idp: the OpenID Connect provider of this instance (docs/IDP.md). Wires the realm's logic
// (src/identity/idp) onto the service runtime: database, revocation, key and client sync, routes, health.
#include <spdlog/spdlog.h>

#include "common/periodic.hpp"
#include "identity/idp/client_store.hpp"
#include "identity/idp/idp_config.hpp"
#include "identity/idp/key_ring.hpp"
#include "identity/idp/oidc_provider.hpp"
#include "identity/idp/password_hash.hpp"
#include "services/idp/idp_revocation.hpp"
#include "services/idp/oidc_routes.hpp"
#include "services/idp/realm_sync.hpp"
#include "services/runtime/service_context.hpp"
#include "services/service_main.hpp"
#include "web/console_routes.hpp"

namespace dive::services {

void wire_idp(ServiceContext& ctx) {
  using namespace identity::idp;
  // Realm, users, credentials and keys live in the database; revocations go to the shared blacklist.
  ctx.connect(Dependencies{.database = true, .blacklist_redis = true});
  auto cfg = std::make_shared<IdpConfig>(IdpConfig::from_instance(ctx.config(), ctx.secrets()));
  auto keys = std::make_shared<KeyRing>();
  auto clients = std::make_shared<ClientCache>();
  auto revocation = idp::make_idp_revocation(ctx);
  ProviderDeps deps{*cfg, ctx.db(), *keys, *clients};
  deps.revoker = revocation.revoker;
  deps.revocations = revocation.check;
  deps.registry = &ctx.registry();
  deps.audit = &ctx.audit();
  auto provider = std::make_shared<OidcProvider>(deps);
  auto sync = std::make_shared<idp::RealmSync>(
      *cfg, ctx.db(), *keys, *clients, [&ctx] { return ctx.schema_ready(); }, &ctx.audit());
  // Destroyed in reverse: the poller first, then what it fills.
  ctx.keep(cfg);
  ctx.keep(keys);
  ctx.keep(clients);
  ctx.keep(revocation.owner);
  ctx.keep(provider);
  ctx.keep(sync);
  // argon2's 19 MiB blocks stay with the allocator while logins come (no page faults between hashes) and go
  // back to the system once none has run for a second: 300 logins leave ~20 MiB resident, not 324 MiB.
  ctx.keep(std::make_shared<Periodic>(std::chrono::seconds(1), [] { release_idle_argon2_memory(); }));

  idp::add_oidc_routes(ctx.router(), provider, keys, [sync] { return sync->ready(); });
  // The sign-in pages wear the console's look: its stylesheet, from the same files compiled into the binary.
  web::add_asset_routes(ctx.router(), web::AssetTable::builtin(), {"style.css"});
  ctx.router().add("GET", "/realms/" + cfg->realm + "/status",
                   [sync](net::Request&) { return net::Response::json(200, sync->status()); });
  ctx.add_check("realm", resilience::Impact::Critical, [sync] {
    bool ok = sync->ready();
    return resilience::CheckResult{ok, ok ? "" : "realm not initialised (no signing key yet)",
                                   sync->status()};
  });
  spdlog::info("realm {} (issuer {}), argon2id m={} KiB t={} p={}", cfg->realm, cfg->issuer,
               cfg->argon2.memory_kib, cfg->argon2.iterations, cfg->argon2.parallelism);
  sync->start();
}

}  // namespace dive::services
