#include "orchestrator/policy_publish.hpp"

#include <pqxx/pqxx>
#include <thread>

#include "federation/instance_state.hpp"
#include "net/https_client.hpp"
#include "orchestrator/federation_ops.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/instance_control.hpp"
#include "orchestrator/ports.hpp"
#include "policy/bundle.hpp"
#include "policy/bundle_store.hpp"
#include "store/local_postgres.hpp"

namespace dive::orch {

using namespace std::chrono_literals;

Json deployment_bundle_for(const Layout& layout, const std::string& code) {
  if (hub_in_home(layout)) return federation::policy_bundle_for(sync_hub_federation(layout).members);
  std::string me = code;
  if (me.empty()) {
    auto codes = layout.deployed_codes();
    if (codes.empty()) throw std::runtime_error("no instance is deployed under " + layout.home.string());
    me = codes.front();
  }
  if (auto applied = applied_bundle(layout, me)) return federation::policy_bundle_for(applied->members);
  Json cfg = read_instance_config(layout.instance(me));
  return federation::policy_bundle_for({federation::member_from_instance(cfg, "", "", "")});
}

std::vector<PublishResult> publish_bundle(const Layout& layout, const Json& bundle, const std::string& source,
                                          const std::vector<std::string>& codes) {
  policy::parse_bundle(bundle);  // throws BundleError before anything is written anywhere
  std::vector<PublishResult> out;
  for (const auto& code : codes.empty() ? layout.deployed_codes() : codes) {
    PublishResult r;
    r.code = code;
    try {
      pqxx::connection c(instance_db_conninfo(layout.instance(code)));
      r.revision = policy::store_bundle(c, bundle, source, true);
      r.ok = true;
    } catch (const std::exception& e) {
      r.error = e.what();
    }
    out.push_back(r);
  }
  return out;
}

PdpBundleStatus pdp_bundle_status(const Layout& layout, const std::string& code) {
  PdpBundleStatus s;
  s.code = code;
  auto paths = layout.instance(code);
  try {
    Json cfg = read_instance_config(paths);
    s.running = supervisor_running(paths);
    try {
      pqxx::connection c(instance_db_conninfo(paths));
      s.active_revision = policy::active_bundle_revision(c);
    } catch (const std::exception& e) {
      s.error = std::string("database: ") + e.what();
    }
    net::ClientConfig cc;
    cc.ca_file = cfg["tls"].value("ca_file", "");
    net::HttpsClient http(cc);
    net::ClientRequest req;
    req.timeout = 3s;
    req.url = cfg["urls"].value("pdp", "") + "/v1/data/dive/policy_version";
    auto v = http.send(req);
    s.served_revision = v.json()["result"].value("bundle", "");
    req.url = cfg["urls"].value("pdp", "") + "/v1/status";
    s.detail = http.send(req).json();
  } catch (const std::exception& e) {
    if (s.error.empty()) s.error = e.what();
  }
  return s;
}

bool wait_pdp_revision(const Layout& layout, const std::string& code, const std::string& revision,
                       std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pdp_bundle_status(layout, code).served_revision == revision) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(200ms);
  }
}

}  // namespace dive::orch
