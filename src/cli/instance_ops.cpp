#include "cli/instance_ops.hpp"

#include <cstdio>

#include "cli/admin_audit.hpp"
#include "cli/context.hpp"
#include "common/fs.hpp"
#include "common/strings.hpp"
#include "orchestrator/backup.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/instance_control.hpp"
#include "orchestrator/monitoring_stack.hpp"
#include "orchestrator/pidfile.hpp"
#include "orchestrator/pipeline.hpp"
#include "orchestrator/port_probe.hpp"
#include "orchestrator/ports.hpp"
#include "orchestrator/upgrade.hpp"

namespace dive::cli {

using namespace std::chrono_literals;

namespace {
void require_deployed(const std::string& code) {
  auto paths = ctx().layout.instance(code);
  if (!std::filesystem::exists(paths.instance_json))
    throw std::runtime_error(code + " is not deployed under " + ctx().layout.home.string() + "; run ./dive " +
                             (orch::is_hub(code) ? "hub deploy" : "spoke deploy " + code));
}

// `start SVC` of a stopped service whose port another process holds would only crash-loop behind a 90 s
// wait: name the port and its holder at once, as deploy's preflight does, and start nothing.
void check_port_before_start(const orch::InstancePaths& paths, const std::string& svc) {
  const Json st = orch::instance_status(paths, orch::is_anchor(paths));
  for (const auto& s : st["services"]) {
    if (s["name"] != svc) continue;
    if (!s["pid"].is_null() || !s.contains("port") || !s["port"].is_number_integer()) return;
    const int port = s["port"];
    const bool store = svc == "postgres" || svc == "redis" || svc == "redis-blacklist";
    std::string bind = "127.0.0.1";
    if (!store) {
      try {
        bind = orch::Placement::from_config(orch::read_instance_config(paths)).bind;
      } catch (const std::exception&) {
      }
    }
    if (orch::port_free(port, bind)) return;
    auto holder = orch::port_holder(port);
    for (const auto& rec : orch::live_records(paths.run))
      if (holder && rec.pid == holder->pid) return;  // one of this instance's own processes
    throw std::runtime_error("cannot start " + svc + " of " + paths.code + ": port " + std::to_string(port) +
                             " is in use by " + orch::describe_holder(holder) +
                             "; stop that process first (nothing was started)");
  }
}

// "web console https://localhost:3000/" once an instance is up (nothing when its configuration is
// unreadable).
void print_console_url(const std::string& code, const orch::Console& out) {
  try {
    const Json cfg = orch::read_instance_config(ctx().layout.instance(code));
    const std::string url = cfg["urls"].value("web", "");
    if (!url.empty()) out.info("web console " + url + "/");
  } catch (const std::exception&) {
  }
}
}  // namespace

int deploy_one(const std::string& code, const std::string& profile_flag, std::optional<int> seed,
               const orch::Console& out, const std::string& host, const std::string& bind,
               const orch::JoinOptions& join) {
  orch::DeployOptions o;
  o.code = code;
  o.join = join;
  if (!host.empty() || !bind.empty()) {
    try {
      o.placement = orch::make_placement(host, bind);
    } catch (const std::invalid_argument& e) {
      throw UsageError(e.what());
    }
  }
  o.profile = resolve_profile(profile_flag, code);
  o.port_shift = resolve_port_shift(code);
  o.seed_count = seed;
  o.dive_exe = ctx().exe;
  o.policy = orch::OrchPolicy::for_profile(o.profile);
  auto r = orch::deploy_instance(ctx().layout, o, out);
  if (r.exit_code == kOk) print_console_url(code, out);
  // In the deployed instance's own trail (a deploy that failed before its database ran leaves a warning).
  const bool ok = r.exit_code == kOk;
  record_admin(code, admin_event("admin.deploy", code, ok,
                                 ok ? "deployed (" + std::string(orch::to_string(o.profile)) + " profile)"
                                    : "failed at " + r.failed_step + ": " + r.reason,
                                 audit::details(Json{{"profile", orch::to_string(o.profile)},
                                                     {"seconds", r.seconds},
                                                     {"exitCode", r.exit_code},
                                                     {"host", host},
                                                     {"hub", join.hub_url}})));
  return r.exit_code;
}

int start_one(const std::string& code, const orch::Console& out) {
  require_deployed(code);
  auto paths = ctx().layout.instance(code);
  auto t0 = std::chrono::steady_clock::now();
  out.step("starting " + code);
  orch::write_instance_targets(ctx().layout, code);  // monitored again (down stopped that), healthy or not
  orch::start_supervisor(paths, ctx().exe);
  bool ok = orch::wait_until_healthy(paths, 180s);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  if (!ok) {
    out.fail(code + " is not healthy after " + format_duration_ms(ms) + "; see ./dive " +
             (orch::is_hub(code) ? "hub status" : "spoke status " + code));
    return kFailed;
  }
  out.ok(code + " running and healthy (" + format_duration_ms(ms) + ")");
  print_console_url(code, out);
  return kOk;
}

int stop_one(const std::string& code, const orch::Console& out) {
  auto paths = ctx().layout.instance(code);
  // Stopped on purpose: no longer scraped, so no alert says it is down.
  orch::remove_instance_targets(ctx().layout, code);
  int n = orch::stop_instance(paths, 60s);
  out.ok(code + (n > 0 ? " stopped (" + std::to_string(n) + " processes)" : " was not running"));
  return kOk;
}

int print_status(const std::string& code, bool json) {
  auto paths = ctx().layout.instance(code);
  bool deployed = std::filesystem::exists(paths.instance_json);
  Json st = orch::instance_status(paths, orch::is_anchor(paths));
  st["deployed"] = deployed;
  if (json) {
    std::printf("%s\n", st.dump(2).c_str());
    return kOk;
  }
  if (!deployed) {
    std::printf("%s: not deployed (under %s)\n", code.c_str(), ctx().layout.home.string().c_str());
    return kOk;
  }
  if (st.value("running", false)) {
    std::printf("%s (%s): running, supervisor pid %d, up %s\n", code.c_str(),
                orch::is_hub(code) ? "hub" : "spoke", st["supervisor"]["pid"].get<int>(),
                format_duration_ms(st["supervisor"]["uptimeMs"].get<int64_t>()).c_str());
  } else {
    std::printf("%s (%s): stopped\n", code.c_str(), orch::is_hub(code) ? "hub" : "spoke");
  }
  print_process_table(st["services"]);
  return kOk;
}

void print_process_table(const Json& services) {
  int width = 7;  // "SERVICE"
  for (const auto& s : services) width = std::max(width, static_cast<int>(s.value("name", "").size()));
  std::printf("  %-*s %-9s %-8s %-8s %-9s %-6s %s\n", width, "SERVICE", "STATE", "HEALTHY", "PID", "RESTARTS",
              "PORT", "RSS");
  for (const auto& s : services) {
    std::string pid = s["pid"].is_null() ? "-" : std::to_string(s["pid"].get<int>());
    std::string rss = s.contains("rssBytes") ? format_bytes(s["rssBytes"].get<uint64_t>()) : "-";
    std::string port = s.contains("port") ? std::to_string(s["port"].get<int>()) : "-";
    std::printf("  %-*s %-9s %-8s %-8s %-9d %-6s %s\n", width, s["name"].get<std::string>().c_str(),
                s["state"].get<std::string>().c_str(), s.value("healthy", false) ? "yes" : "no", pid.c_str(),
                s.value("restarts", 0), port.c_str(), rss.c_str());
    if (s.contains("lastExit") && !s["lastExit"].is_null() && s["state"] != "running")
      std::printf("  %-*s last exit: %s\n", width, "", s["lastExit"].get<std::string>().c_str());
  }
}

int service_verb(const std::string& code, const std::string& verb, const std::string& svc,
                 const orch::Console& out) {
  auto names = orch::child_names(orch::is_anchor(ctx().layout.instance(code)));
  if (std::find(names.begin(), names.end(), svc) == names.end())
    throw UsageError("no service '" + svc + "' in " + code + " (one of: " + join(names, ", ") + ")");
  auto paths = ctx().layout.instance(code);
  if (verb == "start") check_port_before_start(paths, svc);
  const std::string logs = "see ./dive " + std::string(orch::is_hub(code) ? "hub" : "spoke") + " logs " +
                           (orch::is_hub(code) ? "" : code + " ") + svc;
  if (verb == "restart") {
    // Graceful where the supervisor holds the socket: a new process beside the old one, which then drains.
    try {
      auto r = orch::restart_service(paths, svc, 90s);
      out.ok(svc + " of " + code +
             (r.graceful
                  ? " restarted without closing its port (pid " + std::to_string(r.old_pid) + " drained)"
                  : " running and healthy"));
      return kOk;
    } catch (const std::runtime_error& e) {
      out.fail(std::string(e.what()) + "; " + logs);
      return kFailed;
    }
  }
  orch::service_command(paths, verb, svc);
  bool ok = verb == "stop" ? orch::wait_for_service(paths, svc, "stopped", false, 30s)
                           : orch::wait_for_service(paths, svc, "running", true, 90s);
  if (!ok) {
    out.fail(svc + " of " + code + " did not reach " + (verb == "stop" ? "stopped" : "running and healthy") +
             " in time; " + logs);
    return kFailed;
  }
  out.ok(svc + " of " + code +
         (verb == "stop" ? " stopped (it stays stopped until started)" : " running and healthy"));
  return kOk;
}

int upgrade_one(const std::string& code, bool backup, const std::string& passphrase_file, bool json) {
  if (!std::filesystem::exists(ctx().layout.instance(code).instance_json))
    throw UsageError(code + " is not deployed under " + ctx().layout.home.string());
  orch::UpgradeOptions o;
  o.code = code;
  if (backup) {
    // The passphrase is read (and checked) before anything starts; the backup runs under the upgrade's locks.
    std::string passphrase;
    try {
      passphrase = orch::read_backup_passphrase(passphrase_file);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string(e.what()) + " (or pass --no-backup)");
    }
    o.backup = [code, passphrase, json] {
      orch::BackupOptions b;
      b.passphrase = passphrase;
      b.take_deploy_lock = false;  // the upgrade holds it
      if (!json) b.progress = [](const std::string& line) { std::fprintf(stderr, "  %s\n", line.c_str()); };
      return orch::backup_instance(ctx().layout, code, b).file.string();
    };
  }
  // With --json, stdout carries the summary only; progress goes nowhere but the result.
  orch::Console out("", json);
  auto r = orch::upgrade_instance(ctx().layout, o, out);
  // In the instance's audit trail, whatever the outcome (docs/AUDIT.md).
  record_admin(code, admin_event("admin.upgrade", code, r.exit_code == 0,
                                 r.exit_code == 0 ? "schema " + std::to_string(r.schema_before) + " -> " +
                                                        std::to_string(r.schema_after) + ", services replaced"
                                                  : r.reason,
                                 Json{{"backup", r.backup_file.empty() ? Json(nullptr) : Json(r.backup_file)},
                                      {"seconds", r.seconds}}
                                     .dump()));
  if (json) std::printf("%s\n", r.to_json().dump(2).c_str());
  return r.exit_code == 0 ? kOk : kFailed;
}

void print_urls(const std::vector<std::string>& codes) {
  std::printf("\n%-5s %-6s %-24s %-24s %-24s %-24s %-25s\n", "CODE", "ROLE", "WEB CONSOLE", "API", "IDP",
              "PDP", "KAS");
  for (const auto& code : codes) {
    auto paths = ctx().layout.instance(code);
    Json cfg;
    try {
      cfg = Json::parse(read_file(paths.instance_json));
    } catch (...) {
      continue;
    }
    const Json& u = cfg["urls"];
    std::printf("%-5s %-6s %-24s %-24s %-24s %-24s %-25s\n", code.c_str(), cfg.value("role", "").c_str(),
                u.value("web", "").c_str(), u["api"].get<std::string>().c_str(),
                u["idp"].get<std::string>().c_str(), u["pdp"].get<std::string>().c_str(),
                u["kas"].get<std::string>().c_str());
  }
  std::printf("\nCA certificate: %s\n", ctx().layout.ca_cert().string().c_str());
  const int api_port =
      codes.empty()
          ? orch::resolve_ports(std::string(orch::kHubCode)).ports.api
          : Json::parse(read_file(ctx().layout.instance(codes.front()).instance_json))["ports"]["api"]
                .get<int>();
  std::printf("Try: curl --cacert %s https://localhost:%d/health\n", ctx().layout.ca_cert().string().c_str(),
              api_port);
}

}  // namespace dive::cli
