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

namespace {

// The ACL of the "spoke" user on the hub's blacklist Redis (docs/SECURITY.md): the keys blacklist:* and
// user-revoked:*, the channels dive-v3:*, and the commands RedisBlacklist and the subscriber send.
constexpr std::string_view kSpokeBlacklistRules =
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

class Deploy {
 public:
  Deploy(const Layout& layout, const DeployOptions& opts, const Console& out)
      : layout_(layout),
        o_(opts),
        out_(out),
        paths_(layout.instance(opts.code)),
        hub_(is_hub(opts.code)),
        anchor_(hub_ || !hub_in_home(layout)) {}

  DeployResult run() {
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

 private:
  std::string breaker_op() const { return "deploy:" + o_.code; }

  // Runs fn against the orchestration database now, or (hub, before its database exists) later.
  void with_db(const std::function<void(OrchDb&)>& fn) {
    if (db_)
      fn(*db_);
    else
      pending_.push_back(fn);
  }

  void attach_db() {
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

  void check_breaker() {
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

  void transition(DeployState to, const std::string& reason, const Json& meta = Json::object()) {
    with_db([=, this](OrchDb& db) {
      // A deploy that died mid-way left its state behind: close it as FAILED before starting over.
      DeployState cur = db.current_state(o_.code);
      if (to == DeployState::Initializing) {
        if (cur == DeployState::Initializing || cur == DeployState::Deploying ||
            cur == DeployState::Configuring || cur == DeployState::Verifying ||
            cur == DeployState::RollingBack)
          db.set_state(o_.code, DeployState::Failed, "interrupted: an earlier deploy did not finish");
        else if (cur == DeployState::Cleanup)
          db.set_state(o_.code, DeployState::Unknown, "cleanup finished");
      }
      db.set_state(o_.code, to, reason, meta);
    });
    out_.step(std::string(to_string(to)));
  }

  void add_checkpoint(const std::string& level, const std::string& what) {
    with_db([=, this](OrchDb& db) { db.add_checkpoint(o_.code, level, what); });
  }

  // Runs one step, recorded in deployment_steps (COMPLETED, SKIPPED when the step said so, or FAILED).
  void run_step(const std::string& name, const std::function<void()>& fn) {
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
      if (*id >= 0)
        db.step_end(*id, skipped ? "SKIPPED" : "COMPLETED", "", retries, Json{{"duration_ms", ms}});
      db.record_metric(o_.code, "step_duration", ms / 1000.0, "seconds", Json{{"step", name}});
    });
    retries_ = 0;
  }

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
  void preflight() {
    out_.step("PREFLIGHT " + o_.code + (hub_ ? " (hub)" : " (spoke)"));
    for (const auto& tool : {store::pg_tool("initdb"), store::pg_tool("postgres")})
      if (::access(tool.c_str(), X_OK) != 0)
        throw StepFailure(errc::kDirectorySetup, "PostgreSQL 15 server binaries missing (" + tool + ")",
                          "run scripts/bootstrap");
    for (const char* tool : {"redis-server", "mkcert"})
      if (!find_executable(tool))
        throw StepFailure(errc::kDirectorySetup, std::string(tool) + " is not installed",
                          "run scripts/bootstrap");
    ensure_dir(layout_.instances_dir(), 0755);
    try {
      store::check_traversable(layout_.instances_dir(), store::postgres_run_as());
    } catch (const std::exception& e) {
      throw StepFailure(errc::kDirectorySetup, e.what());
    }
    ensure_dir(paths_.run, 0700);
    int holder = -1;
    file_lock_ = FileLock::try_acquire(paths_.deploy_lock, &holder);
    if (!file_lock_)
      throw StepFailure(
          errc::kInstanceConflict,
          "another deploy of " + o_.code + " is in progress (pid " + std::to_string(holder) + ")",
          "wait for it to finish");

    if (!anchor_) {
      try {
        attach_db();
      } catch (const BreakerRefused&) {
        throw;
      } catch (const StepFailure&) {
        throw;
      } catch (const std::exception& e) {
        throw StepFailure(errc::kDatabaseCheck, std::string("the hub is not running: ") + e.what(),
                          "start it with ./dive hub up");
      }
    } else if (!hub_ && o_.join.empty() &&
               !fs::exists(federation::FederationPaths::of(paths_.dir).hub_json)) {
      throw StepFailure(
          errc::kInstanceConflict,
          "no hub is deployed under " + layout_.home.string() + " and " + o_.code + " has not joined one",
          "deploy the hub here first (./dive hub deploy), or join a hub on another machine: "
          "./dive spoke deploy " +
              o_.code + " --join TOKEN (from ./dive hub enroll " + o_.code +
              " on the hub), or --hub URL --hub-ca-fingerprint FP");
    }
    if (anchor_ && fs::exists(paths_.instance_json)) {
      try {
        attach_db();  // a running hub (or standalone spoke): check the breaker and lock right away
      } catch (const BreakerRefused&) {
        throw;
      } catch (const StepFailure&) {
        throw;
      } catch (const std::exception&) {
        out_.info(
            "orchestration database not reachable yet; recording starts once the hub's PostgreSQL is up");
      }
    }
    check_ports();
    if (!o_.join.empty()) {
      // Before anything is set up: the hub answers and its CA is the pinned one.
      try {
        fetch_pinned_hub_ca(o_.join);
      } catch (const JoinRefused& e) {
        throw StepFailure(errc::kFederationJoin, e.what(), e.remedy);
      } catch (const std::exception& e) {
        throw StepFailure(errc::kFederationJoin, e.what(), "check the hub's URL and that its api is up");
      }
      out_.info("hub " + o_.join.hub_url + " answers with the pinned CA");
    }
    out_.ok("preflight passed");
  }

  void check_ports() {
    auto ip = resolve_ports(o_.code, o_.port_shift);
    // Our own running processes may hold our ports (a redeploy of a running instance).
    std::set<pid_t> ours;
    for (const auto& r : live_records(paths_.run)) ours.insert(r.pid);
    auto named = named_ports(ip.ports);  // the web console's port too: `dive serve web` listens on it
    if (anchor_) {
      named.emplace_back("blacklist redis", blacklist_redis_port(o_.port_shift));
      named.emplace_back("blacklist redis exporter", blacklist_redis_exporter_port(o_.port_shift));
    }
    // Another deployed instance with the same offset (ISO codes can collide) and running.
    for (const auto& other : layout_.deployed_codes()) {
      if (other == o_.code) continue;
      auto op = resolve_ports(other, o_.port_shift);
      if (op.offset == ip.offset && !live_records(layout_.instance(other).run).empty())
        throw StepFailure(errc::kInstanceConflict,
                          o_.code + " shares port offset " + std::to_string(ip.offset) +
                              " with running instance " + other + " (its api port " +
                              std::to_string(op.ports.api) + ")",
                          "stop it first: ./dive spoke down " + other);
    }
    // Services and exporters listen on the instance's bind address; its stores on 127.0.0.1.
    const std::string bind = placement().bind;
    for (const auto& [name, port] : named) {
      const bool store = name == "postgres" || name == "redis" || name == "blacklist redis";
      if (port_free(port, store ? "127.0.0.1" : bind)) continue;
      auto h = port_holder(port);
      if (h && ours.count(h->pid)) continue;  // the listener is a process this instance's supervisor started
      throw StepFailure(errc::kInstanceConflict,
                        "port " + std::to_string(port) + " (" + name + " of " + o_.code + ") is in use by " +
                            describe_holder(h),
                        "stop that process, or deploy beside it with DIVE_PORT_SHIFT=<n>");
    }
  }

  // Where the instance will listen: --host/--bind, else what it has, else the default.
  Placement placement() const {
    if (o_.placement) return *o_.placement;
    try {
      return Placement::from_config(read_instance_config(paths_));
    } catch (const std::exception&) {
      return Placement{};
    }
  }

  // ---------------------------------------------------------------- INITIALIZATION
  void initialize() {
    ensure_dir(paths_.dir, 0755);
    ensure_dir(paths_.logs, 0755);
    ensure_dir(paths_.certs, 0755);
    std::optional<BlacklistAccess> blacklist_pw;
    if (!anchor_) {
      // A spoke of this home uses its hub's revocation store as the limited "spoke" user.
      const Json hub = read_secrets(layout_.instance(std::string(kHubCode)));
      blacklist_pw =
          hub.contains("blacklist_spoke_password")
              ? BlacklistAccess{"spoke", hub.at("blacklist_spoke_password")}
              : BlacklistAccess{"", hub.at("blacklist_redis_password")};  // a hub of an older release
    }
    auto before =
        try_read_file(paths_.instance_json).value_or("") + try_read_file(paths_.secrets_json).value_or("");
    secrets_ = ensure_secrets(paths_, blacklist_pw);
    cfg_ = write_instance_config(layout_, o_.code, o_.profile, o_.port_shift, o_.placement);
    if (o_.seed_count) {
      cfg_["seed"]["count"] = *o_.seed_count;
      write_file_atomic(paths_.instance_json, cfg_.dump(2) + "\n", 0644);
    }
    changed_ = before != read_file(paths_.instance_json) + read_file(paths_.secrets_json);
    out_.info("config " + paths_.instance_json.string() + (changed_ ? "" : " (unchanged)"));
    try {
      if (generate_instance_cert(layout_, o_.code, false)) {
        changed_ = true;
        out_.info("certificate generated (mkcert, ECDSA P-256)");
      } else {
        out_.info("certificate present and valid");
      }
    } catch (const std::exception& e) {
      throw StepFailure(
          errc::kCertGeneration, e.what(),
          "check that mkcert works: CAROOT=" + layout_.ca_dir().string() + " mkcert -ecdsa localhost");
    }
    write_file_atomic(exporter_web_config(paths_), exporter_web_config_text(paths_), 0644);
    store::PgClusterSpec pg;
    pg.data_dir = paths_.pg_data;
    pg.port = static_cast<uint16_t>(cfg_["ports"]["postgres"].get<int>());
    pg.superuser = cfg_["database"].value("user", "dive");
    pg.password = secrets_.at("postgres_password");
    pg.fast_unsafe = cfg_["postgres"].value("fast_unsafe", false);
    pg.shared_buffers = cfg_["postgres"].value("shared_buffers", "32MB");
    bool fresh = !fs::exists(paths_.pg_data / "PG_VERSION");
    store::pg_init_cluster(pg, store::postgres_run_as(), 120s);
    out_.info(fresh ? "PostgreSQL cluster created (initdb)" : "PostgreSQL cluster present");
    store::RedisServerSpec r;
    r.dir = paths_.redis_dir;
    r.port = static_cast<uint16_t>(cfg_["redis"]["port"].get<int>());
    r.password = secrets_.at("redis_password");
    store::redis_write_config(r);
    if (anchor_) {
      store::RedisServerSpec b;
      b.dir = paths_.blacklist_dir;
      b.port = static_cast<uint16_t>(cfg_["blacklist_redis"]["port"].get<int>());
      b.password = secrets_.at("blacklist_redis_password");
      b.maxmemory = "256mb";
      b.maxmemory_policy = "noeviction";  // revocations must never be evicted
      // The spokes of this home: only the revocation keys and channels, and only the commands revocation
      // uses (no CONFIG, FLUSH*, KEYS, DEBUG, ...): a compromised spoke can add revocations, not erase them.
      b.acl_users.push_back(
          {"spoke", secrets_.at("blacklist_spoke_password"), std::string(kSpokeBlacklistRules)});
      store::redis_write_config(b);
    }
  }

  // ---------------------------------------------------------------- DEPLOYING
  void start_services() {
    bool was_running = supervisor_running(paths_);
    if (was_running && !supervises_every_child()) {
      // A supervisor started by an older dive that runs fewer processes (before the exporters): replace it,
      // so that it runs what this binary's instances are made of.
      out_.info("the running supervisor predates this version's processes: restarting the instance");
      // The hub's orchestration database goes down with it: reconnect (and re-take the lock) once it is back.
      if (anchor_) db_.reset();
      stop_instance(paths_, 60s);
      was_running = false;
    }
    if (was_running && changed_) {
      // Services read their configuration and certificate at start; the data stores keep running.
      out_.info("already running: restarting its services for the new configuration");
      for (auto it = service_names().rbegin(); it != service_names().rend(); ++it) {  // dependents first
        try {  // gracefully where the supervisor holds the socket (docs/ORCHESTRATION.md)
          restart_service(paths_, *it, o_.policy.health_timeout);
        } catch (const std::runtime_error& e) {
          throw StepFailure(errc::kServiceTimeout, e.what(), "see " + paths_.log(*it).string());
        }
      }
    } else if (was_running) {
      out_.info("already running with this configuration: nothing to restart");
      for (const auto& svc : service_names())
        service_command(paths_, "start", svc);  // a stopped one comes back
    } else {
      start_supervisor(paths_, o_.dive_exe);
      out_.info("supervisor started (log " + paths_.log("supervisor").string() + ")");
      // Services a supervisor that died left running were taken over; they run the old configuration.
      if (changed_)
        for (const auto& name : restart_adopted_services(paths_))
          out_.info(name + " was left running by a previous supervisor: restarted for the new configuration");
    }
    if (anchor_ && !db_) {
      if (!wait_for_service(paths_, "postgres", "running", true, 60s))
        throw StepFailure(errc::kServiceTimeout,
                          "PostgreSQL of " + o_.code + " did not become ready within 60 s",
                          "see " + paths_.log("postgres").string());
      attach_db();
    }
    // Meant to run from now on: scraped by the monitoring stack, so an instance that never gets healthy
    // alerts too.
    write_instance_targets(layout_, o_.code);
    std::map<std::string, bool> announced;
    auto t0 = std::chrono::steady_clock::now();
    bool ok = wait_until_healthy(paths_, o_.policy.health_timeout, [&](const Json& st) {
      for (const auto& s : st["services"]) {
        std::string name = s["name"];
        if (s["state"] == "running" && s.value("healthy", false) && !announced[name]) {
          announced[name] = true;
          auto ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0).count();
          out_.info(name + " ready (" + format_duration_ms(ms) + ")");
        }
      }
    });
    if (!ok) {
      Json st = instance_status(paths_, anchor_);
      std::vector<std::string> bad;
      for (const auto& s : st["services"])
        if (!(s["state"] == "running" && s.value("healthy", false)))
          bad.push_back(s["name"].get<std::string>() + " (" + s["state"].get<std::string>() + ")");
      throw StepFailure(
          errc::kServiceUnhealthy,
          "not healthy within " + format_duration_ms(o_.policy.health_timeout.count()) + ": " +
              join(bad, ", "),
          "see ./dive " + std::string(hub_ ? "hub logs" : "spoke logs " + o_.code) + " <service>");
    }
    out_.ok("all services running and healthy");
  }

  bool supervises_every_child() const {
    Json st = instance_status(paths_, anchor_);
    std::set<std::string> running;
    for (const auto& s : st["services"]) running.insert(s.value("name", ""));
    for (const auto& name : child_names(anchor_)) {
      const bool exporter = name.find("-exporter") != std::string::npos;
      if (exporter && !cfg_.value("exporters", Json::object()).value("enabled", true)) continue;
      if (!running.count(name)) return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- CONFIGURING
  void configure() {
    const auto& migs = store::instance_migrations();
    int expected = migs.empty() ? 0 : migs.back().version;
    retrying("schema check", [&] {
      pqxx::connection c(
          store::pg_conninfo("127.0.0.1", static_cast<uint16_t>(cfg_["ports"]["postgres"].get<int>()),
                             cfg_["database"].value("name", "dive"), cfg_["database"].value("user", "dive"),
                             secrets_.at("postgres_password"), 3));
      int v = store::current_schema_version(c);
      if (v < expected)
        throw std::runtime_error("instance schema at version " + std::to_string(v) + ", expected " +
                                 std::to_string(expected));
    });
    out_.ok("instance database schema at version " + std::to_string(expected));
    join_federation();
    publish_policy();
  }

  // The federation: the hub keeps its bundle key; a spoke of this home joins its hub directly; a spoke on
  // another machine joins over the network with --join / --hub (docs/FEDERATION.md).
  void join_federation() {
    if (hub_) {
      if (ensure_bundle_key(paths_)) out_.info("trust bundle signing key created");
      return;
    }
    if (!anchor_) {
      join_local_spoke(layout_, o_.code);
      out_.ok("joined the hub of this home");
      return;
    }
    auto fp = federation::FederationPaths::of(paths_.dir);
    if (o_.join.empty()) {
      if (auto link = federation::read_hub_link(fp)) out_.info("federated with hub " + link->hub_url);
      return;
    }
    JoinResult r;
    retrying("joining the hub", [&] {
      try {
        r = join_remote_hub(layout_, o_.code, o_.join);
      } catch (const JoinRefused& e) {
        throw StepFailure(errc::kFederationJoin, e.what(), e.remedy);
      }
    });
    if (auto link = federation::read_hub_link(fp)) {  // instance.json names the hub it joined
      cfg_["hub"] = Json{{"code", link->hub_code}, {"api_url", link->hub_url}};
      write_file_atomic(paths_.instance_json, cfg_.dump(2) + "\n", 0644);
    }
    if (r.status == "pending") {
      out_.warn("registered at " + o_.join.hub_url +
                ": pending until the hub's operator runs ./dive hub spokes approve " + o_.code);
      return;
    }
    out_.ok("joined hub " + o_.join.hub_url + " (" + r.status + ")");
    // The api's federation agent fetches and applies the trust bundle; wait for it (bounded).
    auto deadline = std::chrono::steady_clock::now() + 30s;
    while (federation_status_file(layout_, o_.code).value("bundleRevision", int64_t{0}) <
           std::max<int64_t>(r.bundle_revision, 1)) {
      if (std::chrono::steady_clock::now() >= deadline) {
        out_.warn("the trust bundle of the hub is not applied yet; see ./dive federation status");
        return;
      }
      std::this_thread::sleep_for(200ms);
    }
    out_.ok("trust bundle applied (revision " +
            std::to_string(federation_status_file(layout_, o_.code).value("bundleRevision", int64_t{0})) +
            ")");
  }

  // The pdp data of the federation (trusting the issuers of its approved instances) goes to this instance and
  // to every other running one of this home, whose pdps pick it up; this instance's pdp must serve it before
  // we go on.
  void publish_policy() {
    Json bundle = deployment_bundle_for(layout_, o_.code);
    std::vector<std::string> targets{o_.code};
    if (!anchor_ || hub_)
      for (const auto& other : layout_.deployed_codes())
        if (other != o_.code && supervisor_running(layout_.instance(other))) targets.push_back(other);
    std::string revision;
    for (const auto& r : publish_bundle(layout_, bundle, "deployment", targets)) {
      if (r.code == o_.code) {
        if (!r.ok) throw std::runtime_error("cannot store the policy bundle: " + r.error);
        revision = r.revision;
      } else if (!r.ok) {
        out_.warn("policy bundle not updated on " + r.code + ": " + r.error);
      }
    }
    retrying("policy bundle activation", [&] {
      if (!wait_pdp_revision(layout_, o_.code, revision, 10s))
        throw std::runtime_error("the pdp does not serve bundle " + revision.substr(0, 12) + " yet");
    });
    out_.ok("pdp serves policy bundle " + revision.substr(0, 12) + " (" +
            std::to_string(bundle["trusted_issuers"].size()) + " trusted issuers)");
  }

  // ---------------------------------------------------------------- SEEDING
  void seed() {
    SeedRequest req;
    req.code = o_.code;
    req.count = cfg_.value("/seed/count"_json_pointer, 500);  // --seed N is stored there
    req.top_up = true;                                        // a redeploy seeds only what is missing
    if (req.count == 0 || o_.skip_seeding) {
      skipped_ = true;
      out_.info(o_.skip_seeding ? "seeding skipped (restored documents)" : "seeding skipped (--seed 0)");
      return;
    }
    SeedReport rep;
    retrying("seeding", [&] { rep = seed_instance(layout_, req); });
    if (rep.generated == 0) {
      skipped_ = true;
      out_.ok("documents already seeded (" + std::to_string(rep.total_documents) + " in the instance)");
      return;
    }
    out_.ok("seeded " + std::to_string(rep.inserted) + " documents in " +
            format_duration_ms(static_cast<int64_t>(rep.seconds * 1000)) + " (" +
            std::to_string(static_cast<int64_t>(rep.generated / std::max(rep.seconds, 1e-3))) +
            "/s, KAS key " + rep.kas_kid + "; " + std::to_string(rep.total_documents) + " in the instance)");
  }

  // ---------------------------------------------------------------- VERIFYING
  void verify() {
    VerifyReport rep;
    retrying("verification", [&] {
      rep = verify_instance(layout_, o_.code);
      if (!rep.ok()) {
        for (const auto& c : rep.checks)
          if (!c.ok) throw std::runtime_error(c.name + ": " + c.detail);
      }
    });
    out_.ok("verified: " + std::to_string(rep.passed()) + "/" + std::to_string(rep.checks.size()) +
            " checks passed");
  }

  // ---------------------------------------------------------------- failure
  void fail(const std::string& step, const std::exception& e) {
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

}  // namespace

DeployResult deploy_instance(const Layout& layout, const DeployOptions& opts, const Console& out) {
  return Deploy(layout, opts, out).run();
}

}  // namespace dive::orch
