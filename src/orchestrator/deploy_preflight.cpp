// PREFLIGHT of the deploy pipeline (docs/ORCHESTRATION.md "Deploy pipeline"): tools, $DIVE_HOME, locks,
// the orchestration database and its breaker, ports.
#include "orchestrator/deploy_run.hpp"

namespace dive::orch::detail {

namespace {

// The PostgreSQL server binaries, Redis and mkcert, which bootstrap installs.
void check_tools() {
  for (const auto& tool : {store::pg_tool("initdb"), store::pg_tool("postgres")})
    if (::access(tool.c_str(), X_OK) != 0)
      throw StepFailure(errc::kDirectorySetup, "PostgreSQL 15 server binaries missing (" + tool + ")",
                        "run scripts/bootstrap");
  for (const char* tool : {"redis-server", "mkcert"})
    if (!find_executable(tool))
      throw StepFailure(errc::kDirectorySetup, std::string(tool) + " is not installed",
                        "run scripts/bootstrap");
}

}  // namespace

void Deploy::preflight() {
  out_.step("PREFLIGHT " + o_.code + (hub_ ? " (hub)" : " (spoke)"));
  check_tools();
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
    throw StepFailure(errc::kInstanceConflict,
                      "another deploy of " + o_.code + " is in progress (pid " + std::to_string(holder) + ")",
                      "wait for it to finish");
  check_orchestration_db();
  check_ports();
  if (!o_.join.empty()) check_join_hub();
  out_.ok("preflight passed");
}

void Deploy::check_orchestration_db() {
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
  } else if (!hub_ && o_.join.empty() && !fs::exists(federation::FederationPaths::of(paths_.dir).hub_json)) {
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
      out_.info("orchestration database not reachable yet; recording starts once the hub's PostgreSQL is up");
    }
  }
}

void Deploy::check_join_hub() {
  try {
    fetch_pinned_hub_ca(o_.join);
  } catch (const JoinRefused& e) {
    throw StepFailure(errc::kFederationJoin, e.what(), e.remedy);
  } catch (const std::exception& e) {
    throw StepFailure(errc::kFederationJoin, e.what(), "check the hub's URL and that its api is up");
  }
  out_.info("hub " + o_.join.hub_url + " answers with the pinned CA");
}

void Deploy::check_ports() {
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
Placement Deploy::placement() const {
  if (o_.placement) return *o_.placement;
  try {
    return Placement::from_config(read_instance_config(paths_));
  } catch (const std::exception&) {
    return Placement{};
  }
}

}  // namespace dive::orch::detail
