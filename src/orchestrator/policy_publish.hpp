#pragma once
// The data bundle of a deployment, published to the instances' databases, where each pdp picks it up
// (docs/POLICY.md: operators change data, not code). The deployment bundle trusts the issuers of every
// deployed instance (https://localhost:<idp port>/realms/dive-v3-broker-<code>, tenant = code).
#include <optional>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

// The pdp data of the federation as seen from `code` (docs/FEDERATION.md): with a hub in this home, the
// trusted issuers of its current trust bundle (synchronised first: spokes of this home registered, a new
// revision signed when membership changed); in a home without a hub, the bundle the instance applied last
// (or only itself before its first bundle).
Json deployment_bundle_for(const Layout& layout, const std::string& code = "");

struct PublishResult {
  std::string code;
  bool ok = false;
  std::string revision;  // stored and activated in that instance's database
  std::string error;
};
// Validates `bundle`, stores it in each instance's database (running ones; others are skipped with a
// note) and activates it. `codes` empty: every deployed instance.
std::vector<PublishResult> publish_bundle(const Layout& layout, const Json& bundle, const std::string& source,
                                          const std::vector<std::string>& codes);

struct PdpBundleStatus {
  std::string code;
  bool running = false;
  std::string active_revision;  // in the database
  std::string served_revision;  // what the pdp answers on /v1/data/dive/policy_version
  Json detail;                  // the pdp's /v1/status
  std::string error;
};
PdpBundleStatus pdp_bundle_status(const Layout& layout, const std::string& code);

// Waits until the pdp of `code` serves `revision` (true) or the timeout passes.
bool wait_pdp_revision(const Layout& layout, const std::string& code, const std::string& revision,
                       std::chrono::milliseconds timeout);

}  // namespace dive::orch
