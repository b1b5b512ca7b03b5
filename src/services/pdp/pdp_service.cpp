// pdp: the policy decision point of an instance (docs/POLICY.md, spec/policy.md). Decisions are pure and need
// nothing but the data bundle, so the database (bundle revisions, decision log) is not critical: with it
// down the pdp keeps deciding with the bundle it has and logs what it can.
#include <spdlog/spdlog.h>

#include "common/fs.hpp"

#include <memory>
#include <pqxx/pqxx>

#include "common/periodic.hpp"

#include "net/https_server.hpp"
#include "policy/bundle_holder.hpp"
#include "policy/decision_log.hpp"
#include "services/pdp/bundle_sync.hpp"
#include "services/pdp/pdp_api.hpp"
#include "services/pdp/pg_decision_sink.hpp"
#include "services/runtime/service_context.hpp"
#include "services/service_main.hpp"
#include "store/pg_pool.hpp"

namespace dive::services {

void wire_pdp(ServiceContext& ctx) {
  ctx.connect(Dependencies{.database = true, .database_critical = false});
  const Json policy_cfg = ctx.config().value("policy", Json::object());

  auto holder = std::make_shared<policy::BundleHolder>();
  policy::DecisionLog::Options lo;
  lo.capacity = policy_cfg.value("decision_log_capacity", size_t{100000});
  auto log = std::make_shared<policy::DecisionLog>(std::make_unique<pdp::PgDecisionSink>(ctx.db()), lo);
  auto api = std::make_shared<pdp::PdpApi>(*holder, log.get(), ctx.registry());
  // The last bundle, to answer from while the database is down: in the instance's state directory, where this
  // service may write (docs/SECURITY.md).
  const auto state = std::filesystem::path(ctx.config().value("dir", ".")) / "state";
  if (!std::filesystem::exists(state)) ensure_dir(state, 0700);
  auto cache = state / "pdp-bundle.json";
  auto sync = std::make_shared<pdp::BundleSync>(ctx.db(), *holder, *api, cache,
                                                Millis(policy_cfg.value("poll_interval_ms", 1000)));
  // The decision log keeps `decision_log_retention_days` (30) of history; older rows go hourly, in chunks.
  int retention_days = policy_cfg.value("decision_log_retention_days", 30);
  auto retention = std::make_shared<Periodic>(
      std::chrono::hours(1),
      [&ctx, retention_days] {
        ctx.db().with([&](pqxx::connection& c) {
          pqxx::nontransaction tx(c);
          for (int i = 0; i < 100; ++i) {
            auto r = tx.exec_params(
                "DELETE FROM decisions WHERE id IN (SELECT id FROM decisions WHERE decided_at < now() - "
                "make_interval(days => $1) LIMIT 50000)",
                retention_days);
            if (r.affected_rows() < 50000) break;
          }
          return 0;
        });
      },
      [](const std::string& e) { spdlog::warn("decision log retention: {}", e); }, true);
  // Destroyed in reverse: retention, the poller, the API, the log (flushing), then the holder.
  ctx.keep(holder);
  ctx.keep(log);
  ctx.keep(api);
  ctx.keep(sync);
  ctx.keep(retention);

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
