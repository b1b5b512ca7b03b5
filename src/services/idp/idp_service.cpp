// idp: the OpenID Connect provider of this instance (docs/IDP.md). Wires the realm's logic
// (src/identity/idp) onto the service runtime: database, revocation, key and client sync, routes, health.
#include <malloc.h>
#include <spdlog/spdlog.h>

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

namespace dive::services {

void wire_idp(ServiceContext& ctx) {
  // argon2id takes 19 MiB per hash. With glibc's default (a mmap threshold that grows to the largest block
  // freed) each worker thread's arena would keep such a block: 300 logins left 324 MiB resident. A fixed
  // threshold maps and unmaps every block of 1 MiB or more, so the memory goes back after each hash.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
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
  auto provider = std::make_shared<OidcProvider>(deps);
  auto sync = std::make_shared<idp::RealmSync>(*cfg, ctx.db(), *keys, *clients,
                                               [&ctx] { return ctx.schema_ready(); });
  // Destroyed in reverse: the poller first, then what it fills.
  ctx.keep(cfg);
  ctx.keep(keys);
  ctx.keep(clients);
  ctx.keep(revocation.owner);
  ctx.keep(provider);
  ctx.keep(sync);

  idp::add_oidc_routes(ctx.router(), provider, keys);
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
