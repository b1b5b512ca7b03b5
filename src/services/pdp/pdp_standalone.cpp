// `dive serve pdp --data FILE --port N`: the pdp without an instance, like `opa run --server`: plain
// HTTP on 127.0.0.1 only, the bundle from a file (SIGHUP reloads it; a bad file keeps the old bundle),
// the decision log as JSON lines.
#include <signal.h>

#include <spdlog/spdlog.h>

#include "common/logging.hpp"
#include "metrics/process_metrics.hpp"
#include "metrics/registry.hpp"
#include "net/https_server.hpp"
#include "net/router.hpp"
#include "services/pdp/pdp_api.hpp"
#include "services/service_main.hpp"

namespace dive::services {

namespace {

// The pdp's API plus liveness, readiness (a bundle is loaded) and the metrics.
std::shared_ptr<net::Router> standalone_router(pdp::PdpApi& api, policy::BundleHolder& holder,
                                               metrics::Registry& registry) {
  auto router = std::make_shared<net::Router>();
  api.add_routes(*router);
  router->add(
      "GET", "/health/live", [](net::Request&) { return net::Response::json(200, Json::object()); },
      net::Exec::Inline);
  router->add(
      "GET", "/health/ready",
      [&holder](net::Request&) { return net::Response::json(holder.current() ? 200 : 503, Json::object()); },
      net::Exec::Inline);
  router->add("GET", "/metrics", [&registry](net::Request&) {
    return net::Response::text(200, registry.expose(), "text/plain; version=0.0.4; charset=utf-8");
  });
  return router;
}

// Waits for the blocked signals: SIGHUP reloads the bundle file (a bad file keeps the old bundle),
// SIGTERM or SIGINT returns.
void reload_until_stopped(const sigset_t& mask, const std::string& data_file, policy::BundleHolder& holder,
                          pdp::PdpApi& api) {
  std::string err;
  while (true) {
    int sig = 0;
    sigwait(&mask, &sig);
    if (sig != SIGHUP) break;
    if (holder.load_file(data_file, &err)) {
      api.bundle_loaded(true);
      spdlog::info("reloaded {}: bundle {}", data_file, holder.revision().substr(0, 12));
    } else {
      api.bundle_loaded(false);
      spdlog::error("reload of {} refused ({}); keeping bundle {}", data_file, err,
                    holder.revision().substr(0, 12));
    }
  }
}

}  // namespace

int serve_pdp_standalone(const std::string& data_file, int port, const std::string& decision_log) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&mask, s);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);  // before any thread: only the sigwait below sees them
  ::signal(SIGPIPE, SIG_IGN);
  init_logging(LogOptions{"pdp", "info", false, ""});

  policy::BundleHolder holder;
  std::string err;
  if (!holder.load_file(data_file, &err)) {
    spdlog::critical("cannot load the data bundle {}: {}", data_file, err);
    return 1;
  }
  auto& registry = metrics::Registry::global();
  metrics::register_process_metrics(registry, "pdp");
  std::unique_ptr<policy::DecisionLog> log;
  try {
    if (decision_log != "off")
      log = std::make_unique<policy::DecisionLog>(std::make_unique<policy::JsonLinesSink>(decision_log),
                                                  policy::DecisionLog::Options{});
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  pdp::PdpApi api(holder, log.get(), registry);
  auto router = standalone_router(api, holder, registry);

  net::ServerConfig sc;
  sc.host = "127.0.0.1";  // standalone means unauthenticated plain HTTP: never beyond loopback
  sc.port = static_cast<uint16_t>(port);
  sc.service = "pdp";
  sc.error_response = pdp::PdpApi::error;
  sc.body_limit_status = 400;
  net::HttpServer server(sc, router, &registry);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("{}", e.what());
    return 1;
  }
  spdlog::info("pdp (standalone) listening on http://127.0.0.1:{} with bundle {} from {}", server.port(),
               holder.revision().substr(0, 12), data_file);
  reload_until_stopped(mask, data_file, holder, api);
  spdlog::info("stopping");
  server.stop(Millis(5000));
  return 0;
}

}  // namespace dive::services
