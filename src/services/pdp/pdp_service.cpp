// pdp: the policy decision point of an instance (docs/POLICY.md, docs/ARCHITECTURE.md). Decisions are pure
// and need nothing but the data bundle, so the database (bundle revisions, the audit trail) is not critical:
// with it down the pdp keeps deciding with the bundle it has and logs what it can.
#include <spdlog/spdlog.h>

#include "common/fs.hpp"

#include <memory>

#include "net/https_server.hpp"
#include "policy/bundle_holder.hpp"
#include "services/pdp/bundle_sync.hpp"
#include "services/pdp/pdp_api.hpp"
#include "services/runtime/service_context.hpp"
#include "services/service_main.hpp"
#include "store/pg_pool.hpp"

namespace dive::services {

void wire_pdp(ServiceContext& ctx) {
  ctx.connect(Dependencies{.database = true, .database_critical = false});

  auto holder = std::make_shared<policy::BundleHolder>();
  // Every decision is a record of the instance's audit trail (type policy.decision, docs/AUDIT.md): the
  // service's audit sink queues it and writes it off the request path, in the same hash chain as the
  // api's, idp's and kas's records. (The `decisions` table of migration 002 is gone: migration 008.)
  auto api = std::make_shared<pdp::PdpApi>(*holder, nullptr, ctx.registry());
  api->set_audit(&ctx.audit());
  // The last bundle, to answer from while the database is down: in the instance's state directory, where this
  // service may write (docs/SECURITY.md).
  const std::string& dir = ctx.settings().dir;
  const auto state = std::filesystem::path(dir.empty() ? "." : dir) / "state";
  if (!std::filesystem::exists(state)) ensure_dir(state, 0700);
  auto cache = state / "pdp-bundle.json";
  auto sync = std::make_shared<pdp::BundleSync>(ctx.db(), *holder, *api, cache,
                                                ctx.settings().policy.poll_interval, ctx.clock());
  // Destroyed in reverse: the poller, the API, then the holder.
  ctx.keep(holder);
  ctx.keep(api);
  ctx.keep(sync);

  api->add_routes(ctx.router());
  ctx.replace_standard_route("/health");  // OPA's: 200 {} with a bundle, 500 without
  ctx.router().add("GET", "/v1/status",
                   [sync](net::Request&) { return net::Response::json(200, sync->status()); });
  ctx.add_check("bundle", resilience::Impact::Critical, [holder, sync] {
    bool ok = holder->current() != nullptr;
    return resilience::CheckResult{ok, ok ? "" : "no data bundle loaded", sync->status()};
  });
  // OPA's error shape and status codes for the server's own errors (a body over 1 MiB is a 400 too).
  ctx.server_config().error_response = pdp::PdpApi::error;
  ctx.server_config().body_limit_status = 400;
  sync->start();
}

}  // namespace dive::services
