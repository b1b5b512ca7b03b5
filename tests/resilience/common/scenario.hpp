#pragma once
// What the resilience suites share (docs/RESILIENCE.md): one deployed hub per suite, fault proxies placed
// in front of the dependencies of its api and kas (instance.json service_overrides), and the run of one
// named scenario under load:
//
//   run_scenario({"pdp-hung", 20s}, [&] { frozen.emplace(pid_of("pdp")); }, [&] { frozen->thaw(); });
//
// runs the load driver, marks the fault window around inject() (and `during`, if any) and heal(), waits
// until the load is back to its baseline (bounded by the scenario's recovery bound), then asserts the
// driver's invariants: no leak, no acknowledged write lost, every answer within its deadline, errors only
// as 503 with a reason and only in the fault window. It prints `SCENARIO <name>: recovered in N ms
// (bound B ms)`, the figures docs/RESILIENCE.md records.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "api_client.hpp"
#include "dive_cli.hpp"
#include "fault_proxy.hpp"
#include "load_driver.hpp"
#include "process_tree.hpp"
#include "servers.hpp"

namespace dive::testing {

struct ScenarioSpec {
  std::string name;
  std::chrono::milliseconds recovery_bound;  // from heal() to the baseline
  bool allow_transport_errors = false;       // the fault is the api's own process (connections refused)
  LoadOptions load{};
};

struct ScenarioResult {
  std::optional<std::chrono::milliseconds> recovery;
  size_t requests = 0;
  size_t failed = 0;  // answers other than the expected success, whatever their kind
};

// A hub deployed once for the suite (test profile), with the api's and the kas's dependencies behind
// fault proxies when `proxied` (names: "postgres", "pdp", "kas", "blacklist"), all in pass mode between
// scenarios.
class ResilienceHub {
 public:
  explicit ResilienceHub(bool proxied);
  ~ResilienceHub();
  const DiveCli& cli() const { return *cli_; }
  ApiClient& api() { return *api_; }
  FaultProxy& proxy(const std::string& name) { return *proxies_.at(name); }

  Json status(const std::string& service) const { return cli_->service_status("USA", service); }
  pid_t pid_of(const std::string& service) const;
  Json health(const std::string& service = "api") const;  // /health/detailed (the body, also on 503)
  std::string health_status(const std::string& service = "api") const;
  // A breaker of a service as its /health/detailed shows it (null when absent), and whether it is OPEN.
  Json breaker(const std::string& service, const std::string& name) const;
  bool breaker_open(const std::string& service, const std::string& name) const;
  // Polls (bounded) until that breaker is OPEN; a gtest failure naming it otherwise.
  void expect_breaker_opens(const std::string& service, const std::string& name,
                            std::chrono::milliseconds bound = std::chrono::seconds(20)) const;
  // An observation window: the service's verdict stays `status` for `window` (polled; fails at the first
  // other verdict).
  void expect_health_holds(const std::string& service, const std::string& status,
                           std::chrono::milliseconds window) const;
  // A counter or gauge of a service's /metrics (the sum of every series of that name whose labels contain
  // `labels`, e.g. db_type="instance"); 0 when absent.
  double metric(const std::string& service, const std::string& name, const std::string& labels = "") const;
  // Every service running and healthy, and the api healthy: the state every scenario starts from.
  bool settled(std::chrono::milliseconds bound = std::chrono::seconds(60)) const;
  // Restarts a service and waits until it is healthy again.
  void restart(const std::string& service) const;

 private:
  std::unique_ptr<DiveCli> cli_;
  std::unique_ptr<ApiClient> api_;
  std::map<std::string, std::unique_ptr<FaultProxy>> proxies_;
};

// Runs one scenario (see the header comment). `during` runs inside the fault window after inject() (e.g.
// a revocation issued while the blacklist is unreachable); `after` after the recovery, before the load
// stops (e.g. checks that the revocation holds everywhere).
ScenarioResult run_scenario(ResilienceHub& hub, const ScenarioSpec& spec, const std::function<void()>& inject,
                            const std::function<void()>& heal, const std::function<void()>& during = {},
                            const std::function<void()>& after = {});

}  // namespace dive::testing
