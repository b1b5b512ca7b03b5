#include "orchestrator/pipeline.hpp"

#include <cstdint>
#include <stdexcept>

#include "common/strings.hpp"
#include "orchestrator/deploy_run.hpp"

namespace dive::orch {

using namespace std::chrono_literals;

namespace {
int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  auto n = parse_int(v);
  if (!n || *n < INT32_MIN || *n > INT32_MAX)
    throw std::invalid_argument(std::string(name) + " must be a whole number (got '" + v + "')");
  return static_cast<int>(*n);
}
}  // namespace

OrchPolicy OrchPolicy::for_profile(Profile p) {
  OrchPolicy o;
  if (p == Profile::Test) {
    o.retry = {5, {Millis(200), 2.0, Millis(2000), Millis(100)}};
    o.breaker_cooldown = std::chrono::seconds(5);
    o.health_timeout = 120s;
  }
  o.retry.max_attempts = env_int("DIVE_ORCH_RETRY_ATTEMPTS", o.retry.max_attempts);
  o.retry.backoff.initial =
      Millis(env_int("DIVE_ORCH_RETRY_INITIAL_MS", static_cast<int>(o.retry.backoff.initial.count())));
  o.retry.backoff.max_delay =
      Millis(env_int("DIVE_ORCH_RETRY_MAX_MS", static_cast<int>(o.retry.backoff.max_delay.count())));
  o.breaker_threshold = env_int("DIVE_ORCH_BREAKER_THRESHOLD", o.breaker_threshold);
  o.breaker_cooldown = std::chrono::seconds(
      env_int("DIVE_ORCH_BREAKER_COOLDOWN_S", static_cast<int>(o.breaker_cooldown.count())));
  o.lock_timeout = Millis(env_int("DIVE_ORCH_LOCK_TIMEOUT_MS", static_cast<int>(o.lock_timeout.count())));
  return o;
}

std::string orchestration_conninfo(const Layout& layout, const std::string& code) {
  // The hub's database; in a home without a hub, the standalone spoke's own.
  std::string owner = std::string(kHubCode);
  if (!hub_in_home(layout)) {
    owner = code;
    if (owner.empty()) {
      auto codes = layout.deployed_codes();
      if (!codes.empty()) owner = codes.front();
    }
  }
  auto hub = layout.instance(owner);
  Json cfg = read_instance_config(hub);
  Json sec = read_secrets(hub);
  return store::pg_conninfo("127.0.0.1", static_cast<uint16_t>(cfg["ports"]["postgres"].get<int>()),
                            "orchestration", cfg["database"].value("user", "dive"),
                            sec.at("postgres_password"), 3);
}

namespace detail {

DeployResult Deploy::run() {
  auto start = std::chrono::steady_clock::now();
  DeployResult res;
  std::string step = "PREFLIGHT";
  try {
    step = "PREFLIGHT";
    preflight();
    step = "INITIALIZATION";
    transition(DeployState::Initializing, "deploy started");
    run_step("initialization", [&] { initialize(); });
    step = "DEPLOYING";
    transition(DeployState::Deploying, "starting services");
    run_step("deploying", [&] { start_services(); });
    add_checkpoint("CONTAINER", "every process running and healthy");
    step = "CONFIGURING";
    transition(DeployState::Configuring, "checking configuration and schema");
    run_step("configuring", [&] { configure(); });
    add_checkpoint("CONFIG", "schema migrations applied");
    step = "SEEDING";
    run_step("seeding", [&] { seed(); });
    step = "VERIFYING";
    transition(DeployState::Verifying, "verifying the deployment");
    run_step("verifying", [&] { verify(); });
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    transition(DeployState::Complete, "deployment complete", Json{{"duration_seconds", secs}});
    add_checkpoint("COMPLETE", "deployment complete");
    with_db([&](OrchDb& db) {
      db.record_metric(o_.code, "deployment_duration", secs, "seconds",
                       Json{{"profile", to_string(o_.profile)}});
      db.breaker_success(breaker_op());
      db.resolve_errors(o_.code, "deploy");
    });
    res.seconds = secs;
    out_.ok(o_.code + " deployed in " + format_duration_ms(static_cast<int64_t>(secs * 1000)));
  } catch (const BreakerRefused& e) {
    res.exit_code = 2;
    res.failed_step = step;
    res.reason = e.what();
    out_.fail(e.what());
  } catch (const std::exception& e) {
    res.exit_code = 1;
    res.failed_step = step;
    res.reason = e.what();
    fail(step, e);
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (db_) {
    try {
      db_->release_deploy_lock(o_.code);
    } catch (...) {
    }
  }
  return res;
}

// Runs fn against the orchestration database now, or (hub, before its database exists) later.
void Deploy::with_db(const std::function<void(OrchDb&)>& fn) {
  if (db_)
    fn(*db_);
  else
    pending_.push_back(fn);
}

void Deploy::attach_db() {
  if (db_) return;
  db_ = std::make_unique<OrchDb>(orchestration_conninfo(layout_, o_.code));
  check_breaker();
  std::string holder;
  if (!db_->acquire_deploy_lock(o_.code, o_.policy.lock_timeout, &holder))
    throw StepFailure(errc::kInstanceConflict,
                      "another deploy of " + o_.code + " holds the deployment lock: " + holder,
                      "wait for it to finish");
  auto pending = std::move(pending_);
  for (auto& fn : pending) fn(*db_);
}

void Deploy::check_breaker() {
  auto c = db_->breaker_check(breaker_op(), o_.policy.breaker_threshold, o_.policy.breaker_cooldown);
  if (!c.allowed) {
    db_.reset();  // release the session: nothing of this run is recorded
    throw BreakerRefused("deploy of " + o_.code + " refused: its circuit breaker is OPEN after " +
                         std::to_string(c.failures) + " failed deploy steps; retry in " +
                         format_duration_ms(c.retry_after.count()) +
                         " (./dive orch-db status shows the errors)");
  }
  if (c.state == "HALF_OPEN") out_.warn("circuit breaker HALF_OPEN: this deploy is the trial run");
}

void Deploy::transition(DeployState to, const std::string& reason, const Json& meta) {
  with_db([=, this](OrchDb& db) {
    // A deploy that died mid-way left its state behind: close it as FAILED before starting over.
    DeployState cur = db.current_state(o_.code);
    if (to == DeployState::Initializing) {
      if (cur == DeployState::Initializing || cur == DeployState::Deploying ||
          cur == DeployState::Configuring || cur == DeployState::Verifying || cur == DeployState::RollingBack)
        db.set_state(o_.code, DeployState::Failed, "interrupted: an earlier deploy did not finish");
      else if (cur == DeployState::Cleanup)
        db.set_state(o_.code, DeployState::Unknown, "cleanup finished");
    }
    db.set_state(o_.code, to, reason, meta);
  });
  out_.step(std::string(to_string(to)));
}

void Deploy::add_checkpoint(const std::string& level, const std::string& what) {
  with_db([=, this](OrchDb& db) { db.add_checkpoint(o_.code, level, what); });
}

// Runs one step, recorded in deployment_steps (COMPLETED, SKIPPED when the step said so, or FAILED).
void Deploy::run_step(const std::string& name, const std::function<void()>& fn) {
  auto t0 = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return static_cast<int>(
        std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0).count());
  };
  auto id = std::make_shared<int>(-1);
  with_db([=, this](OrchDb& db) { *id = db.step_begin(o_.code, name); });
  skipped_ = false;
  try {
    fn();
  } catch (const std::exception& e) {
    with_db([=, this, msg = std::string(e.what()), ms = elapsed_ms()](OrchDb& db) {
      if (*id >= 0) db.step_end(*id, "FAILED", msg, retries_, Json{{"duration_ms", ms}});
    });
    throw;
  }
  with_db([=, this, ms = elapsed_ms(), skipped = skipped_, retries = retries_](OrchDb& db) {
    if (*id >= 0) db.step_end(*id, skipped ? "SKIPPED" : "COMPLETED", "", retries, Json{{"duration_ms", ms}});
    db.record_metric(o_.code, "step_duration", ms / 1000.0, "seconds", Json{{"step", name}});
  });
  retries_ = 0;
}

void Deploy::fail(const std::string& step, const std::exception& e) {
  const auto* sf = dynamic_cast<const StepFailure*>(&e);
  std::string code = sf ? sf->error_code : errc::kUnknown;
  std::string fix = sf ? sf->remediation : "";
  out_.fail(step + " failed: " + e.what());
  if (!fix.empty()) out_.info("fix: " + fix);
  if (!db_) {
    out_.warn("(not recorded: the orchestration database was not reachable)");
    return;
  }
  try {
    db_->record_error(o_.code, code, sf ? sf->severity : 2, to_lower(step), e.what(), fix);
    if (transition_allowed(db_->current_state(o_.code), DeployState::Failed))
      db_->set_state(o_.code, DeployState::Failed, step + ": " + e.what());
    db_->breaker_failure(breaker_op(), o_.policy.breaker_threshold, e.what());
  } catch (const std::exception& rec) {
    out_.warn(std::string("could not record the failure: ") + rec.what());
  }
}

}  // namespace detail

DeployResult deploy_instance(const Layout& layout, const DeployOptions& opts, const Console& out) {
  return detail::Deploy(layout, opts, out).run();
}

}  // namespace dive::orch
