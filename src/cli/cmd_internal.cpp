// Internal commands run by the supervisor and the CLI itself:
//   dive serve <api|idp|pdp|kas> --instance CODE      one service, in the foreground
//   dive serve monitor                                 the monitoring stack's receiver and metrics
//   dive supervise --instance CODE | --monitoring      a supervisor (instance, or the monitoring stack)
#include <unistd.h>

#include "cli/context.hpp"
#include "common/fs.hpp"
#include "common/logging.hpp"
#include "common/strings.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/file_lock.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/monitoring_stack.hpp"
#include "orchestrator/pidfile.hpp"
#include "orchestrator/service_user.hpp"
#include "orchestrator/supervisor.hpp"
#include "services/service_main.hpp"

namespace dive::cli {

namespace {

void add_serve_command(CLI::App& app) {
  static std::string svc, code, data, decision_log = "-";
  static int port = 0;
  auto* serve = app.add_subcommand("serve", "Run one service in the foreground (the supervisor does this)");
  serve
      ->add_option("SERVICE", svc,
                   "api, idp, pdp, kas, web, or monitor (the monitoring stack's, no --instance)")
      ->required()
      ->check(CLI::IsMember({"api", "idp", "pdp", "kas", "web", "monitor"}));
  serve->add_option("--instance", code, "Instance code");
  serve->add_option("--data", data, "pdp without an instance: the data bundle file");
  serve->add_option("--port", port, "pdp without an instance: the port on 127.0.0.1 (plain HTTP)")
      ->check(CLI::Range(1, 65535));
  serve->add_option("--decision-log", decision_log,
                    "pdp without an instance: JSON lines file, - for stdout, off");
  serve->footer(
      "Examples:\n  dive serve pdp --data data/policy-bundle.json --port 18181\n  dive serve api --instance "
      "USA");
  serve->callback([] {
    if (svc == "monitor") {
      if (!code.empty() || !data.empty() || port != 0) throw UsageError("serve monitor takes no options");
      ctx().exit_code = services::serve_monitor();
    } else if (!code.empty()) {
      if (!data.empty() || port != 0) throw UsageError("--data/--port are for a pdp without --instance");
      ctx().exit_code = services::serve(svc, parse_code(code));
    } else if (svc == "pdp" && !data.empty() && port != 0) {
      ctx().exit_code = services::serve_pdp_standalone(data, port, decision_log);
    } else {
      throw UsageError(svc == "pdp" ? "serve pdp needs --instance CODE, or --data FILE and --port N"
                                    : "serve " + svc + " needs --instance CODE");
    }
  });
}

// What a supervisor runs: its paths, configuration and children.
struct Supervised {
  orch::InstancePaths paths;
  Json cfg;
  std::vector<orch::ChildSpec> children;
};

// The monitoring stack's, from its monitor.json.
Supervised supervised_monitoring() {
  Supervised s;
  s.paths = ctx().layout.monitoring();
  s.cfg = orch::read_monitor_config(ctx().layout);
  s.cfg["code"] = "monitoring";
  s.children = orch::monitoring_children(ctx().layout, s.cfg, ctx().exe);
  return s;
}

// An instance's, from its instance.json and secrets.
Supervised supervised_instance(const std::string& code) {
  Supervised s;
  s.paths = ctx().layout.instance(parse_code(code));
  s.cfg = orch::read_instance_config(s.paths);
  const Json secrets = orch::read_secrets(s.paths);
  s.children = orch::build_children(s.cfg, secrets, s.paths, ctx().exe);
  // Each service's own secrets (and, as root, each account's files) before anything starts.
  if (::geteuid() == 0)
    orch::prepare_instance_for_accounts(s.paths, secrets);
  else
    orch::write_service_secrets(s.paths, secrets);
  return s;
}

// Runs the supervisor of `sv` in the foreground under its lock (refused while another one holds it).
void run_supervisor(Supervised sv) {
  const orch::InstancePaths& paths = sv.paths;
  Json& cfg = sv.cfg;
  LogOptions lo;
  lo.service = "supervisor-" + to_lower(paths.code);
  lo.level = cfg["log"].value("level", "info");
  lo.json = cfg["log"].value("json", false);
  init_logging(lo);
  ensure_dir(paths.run, 0700);
  ensure_dir(paths.logs, 0755);
  int holder = -1;
  auto lock = orch::FileLock::try_acquire(paths.supervisor_lock, &holder);
  if (!lock) {
    ctx().out.fail("a supervisor of " + paths.code + " is already running (pid " + std::to_string(holder) +
                   ")");
    ctx().exit_code = kFailed;
    return;
  }
  orch::write_pid_record(paths.supervisor_pid, ::getpid());
  orch::RealProber prober(cfg["tls"]["ca_file"].get<std::string>());
  orch::Supervisor s(orch::SupervisorOptions::from_config(cfg, paths), std::move(sv.children), prober);
  ctx().exit_code = s.run();
  std::error_code ec;
  std::filesystem::remove(paths.supervisor_pid, ec);
}

void add_supervise_command(CLI::App& app) {
  static std::string sup_code;
  static bool sup_monitoring = false;
  auto* sup = app.add_subcommand(
      "supervise",
      "Run an instance's (or the monitoring stack's) supervisor in the foreground (up starts it)");
  auto* inst_opt = sup->add_option("--instance", sup_code, "Instance code");
  auto* mon_opt = sup->add_flag("--monitoring", sup_monitoring, "The monitoring stack's supervisor");
  inst_opt->excludes(mon_opt);
  sup->callback([] {
    if (sup_code.empty() && !sup_monitoring)
      throw UsageError("supervise needs --instance CODE or --monitoring");
    run_supervisor(sup_monitoring ? supervised_monitoring() : supervised_instance(sup_code));
  });
}

}  // namespace

void add_internal_commands(CLI::App& app) {
  add_serve_command(app);
  add_supervise_command(app);
}

}  // namespace dive::cli
