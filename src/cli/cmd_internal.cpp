// Internal commands run by the supervisor and the CLI itself:
//   dive serve <api|idp|pdp|kas> --instance CODE      one service, in the foreground
//   dive supervise --instance CODE [--foreground]     the per-instance supervisor
#include <unistd.h>

#include "cli/context.hpp"
#include "common/fs.hpp"
#include "common/logging.hpp"
#include "common/strings.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/file_lock.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/pidfile.hpp"
#include "orchestrator/supervisor.hpp"
#include "services/service_main.hpp"

namespace dive::cli {

void add_internal_commands(CLI::App& app) {
  static std::string svc, code, data, decision_log = "-";
  static int port = 0;
  auto* serve = app.add_subcommand("serve", "Run one service in the foreground (the supervisor does this)");
  serve->add_option("SERVICE", svc, "api, idp, pdp or kas")
      ->required()
      ->check(CLI::IsMember({"api", "idp", "pdp", "kas"}));
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
    if (!code.empty()) {
      if (!data.empty() || port != 0) throw UsageError("--data/--port are for a pdp without --instance");
      ctx().exit_code = services::serve(svc, parse_code(code));
    } else if (svc == "pdp" && !data.empty() && port != 0) {
      ctx().exit_code = services::serve_pdp_standalone(data, port, decision_log);
    } else {
      throw UsageError(svc == "pdp" ? "serve pdp needs --instance CODE, or --data FILE and --port N"
                                    : "serve " + svc + " needs --instance CODE");
    }
  });

  static std::string sup_code;
  auto* sup =
      app.add_subcommand("supervise", "Run an instance's supervisor in the foreground (deploy/up start it)");
  sup->add_option("--instance", sup_code, "Instance code")->required();
  sup->callback([] {
    auto c = parse_code(sup_code);
    auto paths = ctx().layout.instance(c);
    Json cfg = orch::read_instance_config(paths);
    Json secrets = orch::read_secrets(paths);
    LogOptions lo;
    lo.service = "supervisor-" + to_lower(c);
    lo.level = cfg["log"].value("level", "info");
    lo.json = cfg["log"].value("json", false);
    init_logging(lo);
    ensure_dir(paths.run, 0700);
    ensure_dir(paths.logs, 0755);
    int holder = -1;
    auto lock = orch::FileLock::try_acquire(paths.supervisor_lock, &holder);
    if (!lock) {
      ctx().out.fail("a supervisor of " + c + " is already running (pid " + std::to_string(holder) + ")");
      ctx().exit_code = kFailed;
      return;
    }
    orch::write_pid_record(paths.supervisor_pid, ::getpid());
    auto children = orch::build_children(cfg, secrets, paths, ctx().exe);
    orch::RealProber prober(cfg["tls"]["ca_file"].get<std::string>());
    orch::Supervisor s(orch::SupervisorOptions::from_config(cfg, paths), std::move(children), prober);
    ctx().exit_code = s.run();
    std::error_code ec;
    std::filesystem::remove(paths.supervisor_pid, ec);
  });
}

}  // namespace dive::cli
