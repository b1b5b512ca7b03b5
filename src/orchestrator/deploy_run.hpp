#pragma once
// The deploy pipeline's run (src/orchestrator/pipeline.cpp: the state machine, its records and failures),
// shared by the files of its steps: deploy_preflight.cpp (PREFLIGHT), deploy_start.cpp (INITIALIZATION,
// DEPLOYING) and deploy_configure.cpp (CONFIGURING, federation, policy, SEEDING, VERIFYING). Internal to
// dive_orchestrator: callers use deploy_instance() (orchestrator/pipeline.hpp). docs/ORCHESTRATION.md
// "Deploy pipeline" describes each step.
#include "orchestrator/pipeline.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <set>
#include <stdexcept>
#include <thread>

#include "common/fs.hpp"
#include "common/process.hpp"
#include "common/strings.hpp"
#include "federation/instance_state.hpp"
#include "orchestrator/certs.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/file_lock.hpp"
#include "orchestrator/instance_control.hpp"
#include "orchestrator/monitoring_stack.hpp"
#include "orchestrator/orch_db.hpp"
#include "orchestrator/pidfile.hpp"
#include "orchestrator/policy_publish.hpp"
#include "orchestrator/port_probe.hpp"
#include "orchestrator/ports.hpp"
#include "orchestrator/seeding.hpp"
#include "orchestrator/verify.hpp"
#include "store/embedded_migrations.hpp"
#include "store/local_postgres.hpp"
#include "store/local_redis.hpp"
#include "store/migrations.hpp"

namespace dive::orch::detail {

using namespace std::chrono_literals;

// The ACL of the "spoke" user on the hub's blacklist Redis (docs/SECURITY.md): the keys blacklist:* and
// user-revoked:*, the channels dive-v3:*, and the commands RedisBlacklist and the subscriber send.
inline constexpr std::string_view kSpokeBlacklistRules =
    "resetkeys ~blacklist:* ~user-revoked:* resetchannels &dive-v3:* -@all +ping +auth +hello +quit +get "
    "+set "
    "+mget +exists +pttl +ttl +eval +scan +publish +subscribe +unsubscribe +client|setname";

// A failure of one pipeline step: what to tell the operator and what to record.
struct StepFailure : std::runtime_error {
  StepFailure(std::string code, std::string msg, std::string fix = "", int sev = 2)
      : std::runtime_error(std::move(msg)),
        error_code(std::move(code)),
        remediation(std::move(fix)),
        severity(sev) {}
  std::string error_code, remediation;
  int severity;
};

struct BreakerRefused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// One deploy of one instance (used by one thread).
class Deploy {
 public:
  Deploy(const Layout& layout, const DeployOptions& opts, const Console& out)
      : layout_(layout),
        o_(opts),
        out_(out),
        paths_(layout.instance(opts.code)),
        hub_(is_hub(opts.code)),
        anchor_(hub_ || !hub_in_home(layout)) {}

  DeployResult run();

 private:
  std::string breaker_op() const { return "deploy:" + o_.code; }

  // Runs fn against the orchestration database now, or (hub, before its database exists) later.
  void with_db(const std::function<void(OrchDb&)>& fn);

  void attach_db();

  void check_breaker();

  void transition(DeployState to, const std::string& reason, const Json& meta = Json::object());

  void add_checkpoint(const std::string& level, const std::string& what);

  // Runs one step, recorded in deployment_steps (COMPLETED, SKIPPED when the step said so, or FAILED).
  void run_step(const std::string& name, const std::function<void()>& fn);

  template <class F>
  void retrying(const std::string& what, F&& fn) {
    resilience::RetryHooks hooks;
    hooks.on_retry = [&](int attempt, Millis d, const std::exception& e) {
      ++retries_;
      out_.warn(what + " failed (attempt " + std::to_string(attempt) + "/" +
                std::to_string(o_.policy.retry.max_attempts) + "): " + e.what() + "; retrying in " +
                format_duration_ms(d.count()));
    };
    hooks.retryable = [](const std::exception& e) { return dynamic_cast<const StepFailure*>(&e) == nullptr; };
    resilience::retry(o_.policy.retry, fn, hooks);
  }

  // ---------------------------------------------------------------- PREFLIGHT
  void preflight();

  // The orchestration database attached: a spoke of this home records in its hub's (which must run); an
  // anchor records in its own once its PostgreSQL is up. A spoke without a hub here must join one.
  void check_orchestration_db();

  void check_ports();

  // --join: before anything is set up, the hub answers and its CA is the pinned one.
  void check_join_hub();

  // Where the instance will listen: --host/--bind, else what it has, else the default.
  Placement placement() const;

  // ---------------------------------------------------------------- INITIALIZATION
  void initialize();

  // ---------------------------------------------------------------- DEPLOYING
  void start_services();

  // The supervisor running this binary's processes with the current configuration: started, or its
  // services restarted when the configuration changed, or the whole instance when it predates them.
  void bring_supervisor_up();

  bool supervises_every_child() const;

  // Waits for every service to be healthy (announcing each one ready); a StepFailure naming those that
  // are not after the policy's health timeout.
  void wait_services_healthy();

  // ---------------------------------------------------------------- CONFIGURING
  void configure();

  // The federation: the hub keeps its bundle key; a spoke of this home joins its hub directly; a spoke on
  // another machine joins over the network with --join / --hub (docs/FEDERATION.md).
  void join_federation();

  // The pdp data of the federation (trusting the issuers of its approved instances) goes to this instance and
  // to every other running one of this home, whose pdps pick it up; this instance's pdp must serve it before
  // we go on.
  void publish_policy();

  // ---------------------------------------------------------------- SEEDING
  void seed();

  // ---------------------------------------------------------------- VERIFYING
  void verify();

  // ---------------------------------------------------------------- failure
  void fail(const std::string& step, const std::exception& e);

  const Layout& layout_;
  const DeployOptions& o_;
  const Console& out_;
  InstancePaths paths_;
  bool hub_;
  bool anchor_;  // the hub, or a spoke in a home without one: its own orchestration database
  Json cfg_, secrets_;
  std::unique_ptr<OrchDb> db_;
  std::vector<std::function<void(OrchDb&)>> pending_;
  std::optional<FileLock> file_lock_;
  int retries_ = 0;
  bool skipped_ = false;
  bool changed_ = true;  // instance.json, secrets or certificate changed by this deploy  // set by a step
                         // that had nothing to do
};

}  // namespace dive::orch::detail
