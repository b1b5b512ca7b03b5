#pragma once
// The deployment every federation scenario shares (docs/RESILIENCE.md, "Federation"): a hub (USA) in one
// $DIVE_HOME and a spoke (FRA) on 127.0.0.2 in another, with its own CA, like two machines. The spoke reaches
// its hub through a FaultProxy (`link()`): it joined with `--hub https://127.0.0.1:<proxy port>`, so its
// federation agent (heartbeats, trust bundle polls, the revocation relay) crosses the proxy, while federated
// searches, origin reads and JWKS fetches use the members' URLs of the trust bundle, directly. The spoke's
// api also reaches its own revocation store (its blacklist Redis) through a proxy (`store()`, placed with
// instance.json service_overrides.api).
//
// Each scenario leaves the deployment as it found it (services started, proxy passing) and checks that it is
// back to the baseline (`at_baseline`) before it starts.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api_client.hpp"
#include "dive_cli.hpp"
#include "fault_proxy.hpp"
#include "load_driver.hpp"

namespace dive::testing {

using Ms = std::chrono::milliseconds;

class FederationResilience : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;     // the baseline holds (or the scenario is skipped with the reason)
  void TearDown() override;  // services started again and the link passing, whatever the scenario did

  static DiveCli& hub() { return *hub_; }
  static DiveCli& spoke() { return *fra_; }
  static ApiClient& usa() { return *usa_api_; }
  static ApiClient& fra() { return *fra_api_; }
  static FaultProxy& link() { return *link_; }
  static FaultProxy& store() { return *store_; }  // the spoke api's path to its own blacklist Redis
  static const std::string& brief(const std::string& code);  // "Coalition brief <code>", releasable to both
  // A token of testuser-<c>-1 (UNCLASSIFIED, no one-time code), shared with the load drivers' ApiClients.
  static std::string user_token(const std::string& code);
  // Fresh logins of users the loads do not act as (testuser-fra-2, testuser-usa-2), each checked to be
  // accepted on both sides: {fra token, usa token}; empty strings (and a gtest failure) otherwise.
  static std::pair<std::string, std::string> fresh_tokens_accepted_everywhere();

  // ---- observations ----
  // A federated search at `api` by `token`: the reply and how long it took.
  static std::pair<ApiReply, Ms> search(const ApiClient& api, const std::string& token);
  static Json instance_of(const Json& search_body, const std::string& code);
  static Json health(const ApiClient& api);  // GET /health of its api (status, checks, breakers)
  static std::string breaker_state(const ApiClient& api, const std::string& name);  // "CLOSED", "OPEN"...
  // The api is degraded with its check `check` down (a partner or its hub missing degrades, never more).
  static bool degraded_by(const ApiClient& api, const std::string& check);
  static Json agent_status(const ApiClient& api);  // GET /api/federation/status (the federation agent)
  static int me(const ApiClient& api, const std::string& token);  // GET /api/auth/me: the status
  static Json registry_entry(const std::string& code);            // ./dive hub spokes --json, one spoke
  // The hub sees the spoke current: approved, not stale, a heartbeat after `after_ms` (wall clock).
  static bool spoke_fresh(const std::string& code, int64_t after_ms = 0);
  // A full federated search from both sides (every member "ok"), both apis healthy, the spoke fresh.
  static bool at_baseline(std::string* why = nullptr);

  // ---- load ----
  static LoadOptions load_options(const std::string& code);
  // Starts a driver on `code`'s api (prepare() + start()); nullptr (and a failure) when it cannot prepare.
  static std::unique_ptr<LoadDriver> start_load(const std::string& code);
  // fault_ends() already called: waits for the driver's recovery, stops it, and checks the run (no leak, no
  // acknowledged write lost, errors only 503-with-a-reason inside the fault window + grace).
  static std::optional<Ms> finish_load(LoadDriver& load, const std::string& code, Ms bound,
                                       bool transport_errors_expected = false);

  // ---- helpers ----
  static int64_t wall_ms();
  // Polls `pred` until it holds or `bound` passes; the time it took (nullopt: never within the bound).
  static std::optional<Ms> time_until(const std::function<bool()>& pred, Ms bound, Ms step = Ms(100));
  // The scenario's result line (docs/RESILIENCE.md quotes these): recovered when every part did (the
  // federation's own conditions, each load's 20 in a row), in the time of the slowest.
  static void report(const std::string& scenario, std::initializer_list<std::optional<Ms>> parts, Ms bound);
  // The last lines of a service's log of one home (for failure messages and reasons in logs).
  static std::string log_of(const DiveCli& cli, const std::string& code, const std::string& service);

 private:
  static DiveCli *hub_, *fra_;
  static ApiClient *usa_api_, *fra_api_;
  static FaultProxy *link_, *store_;
};

}  // namespace dive::testing
