// ./dive hub   deploy|up|down|status|verify|logs [SVC] [-f]|stop SVC|start SVC|restart SVC
// ./dive spoke deploy|up|down|status|verify|logs|stop|start|restart <CODE> [SVC]
#include <cstdio>
#include <memory>

#include "cli/context.hpp"
#include "cli/idp_commands.hpp"
#include "cli/instance_ops.hpp"
#include "common/strings.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/federation_ops.hpp"
#include "orchestrator/instance_control.hpp"
#include "orchestrator/logs.hpp"
#include "orchestrator/pipeline.hpp"
#include "orchestrator/ports.hpp"
#include "orchestrator/verify.hpp"

namespace dive::cli {

using namespace std::chrono_literals;

namespace {

struct Args {
  bool hub = true;
  std::string code, svc, profile, host, bind, join, hub_url, hub_fp;
  int seed = -1;
  bool json = false, follow = false, no_backup = false;
  std::string passphrase_file;
  size_t lines = 50;
  std::string resolved() const { return hub ? std::string(orch::kHubCode) : parse_spoke_code(code); }
};

// A spoke's subcommands name the spoke (CODE); the hub's need none.
void add_code_option(CLI::App* sub, Args* a) {
  if (!a->hub) sub->add_option("CODE", a->code, "Spoke instance code, e.g. FRA")->required();
}

void add_deploy_command(CLI::App* fam, Args* a) {
  auto* deploy =
      fam->add_subcommand("deploy", "Full pipeline: preflight, init, start, configure, seed, verify");
  add_code_option(deploy, a);
  deploy->add_option("--profile", a->profile, "dev (default) or test (short timeouts, small seed)");
  deploy->add_option("--seed", a->seed, "Documents to seed");
  deploy->add_option("--host", a->host,
                     "Public host name or IPv4 address of the instance (its URLs, issuer and certificate; "
                     "default localhost, kept across redeploys)");
  deploy->add_option(
      "--bind", a->bind,
      "IPv4 address its services listen on (default: --host when it is an address, else 127.0.0.1; "
      "0.0.0.0 for every interface)");
  if (!a->hub) {
    deploy->add_option("--join", a->join,
                       "Join a hub on another machine with the one-time token of ./dive hub enroll CODE");
    deploy->add_option(
        "--hub", a->hub_url,
        "Register at this hub (https://host:port of its api) without a token: the spoke waits as "
        "pending until the hub's operator approves it");
    deploy->add_option("--hub-ca-fingerprint", a->hub_fp,
                       "SHA-256 fingerprint of the hub's CA (with --hub): the only CA this spoke will accept "
                       "for it");
  }
  deploy->callback([a] {
    std::optional<int> seed;
    if (a->seed >= 0) seed = a->seed;
    orch::JoinOptions join;
    if (!a->hub) {
      try {
        join = orch::make_join_options(a->join, a->hub_url, a->hub_fp, a->resolved());
      } catch (const std::invalid_argument& e) {
        throw UsageError(e.what());
      }
    }
    ctx().exit_code = deploy_one(a->resolved(), a->profile, seed, ctx().out, a->host, a->bind, join);
  });
}

// up, down, status.
void add_lifecycle_commands(CLI::App* fam, Args* a) {
  auto* up = fam->add_subcommand("up", "Start an already deployed instance and wait until it is healthy");
  add_code_option(up, a);
  up->callback([a] { ctx().exit_code = start_one(a->resolved(), ctx().out); });

  auto* down = fam->add_subcommand("down", "Stop every process of the instance (data is kept)");
  add_code_option(down, a);
  down->callback([a] { ctx().exit_code = stop_one(a->resolved(), ctx().out); });

  auto* status = fam->add_subcommand("status", "State, pid, restarts and health of every process");
  add_code_option(status, a);
  status->add_flag("--json", a->json, "Machine-readable output");
  status->callback([a] { ctx().exit_code = print_status(a->resolved(), a->json); });
}

void add_verify_command(CLI::App* fam, Args* a) {
  auto* verify =
      fam->add_subcommand("verify", "Check processes, TLS health, metrics, stores and certificate");
  add_code_option(verify, a);
  verify->add_flag("--json", a->json, "Machine-readable output");
  verify->callback([a] {
    auto rep = orch::verify_instance(ctx().layout, a->resolved());
    if (a->json) {
      std::printf("%s\n", rep.to_json().dump(2).c_str());
    } else {
      for (const auto& c : rep.checks) {
        if (!c.ok)
          ctx().out.fail(c.name + ": " + c.detail);
        else if (c.warning)
          ctx().out.warn(c.name + ": " + c.detail);
        else
          ctx().out.ok(c.name + ": " + c.detail);
      }
      std::printf("Verification: %d/%zu checks passed\n", rep.passed(), rep.checks.size());
    }
    ctx().exit_code = rep.ok() ? kOk : kFailed;
  });
}

void add_logs_command(CLI::App* fam, Args* a) {
  auto* logs = fam->add_subcommand("logs", "Show service logs (all of them by default)");
  add_code_option(logs, a);
  logs->add_option("SVC", a->svc, "postgres, redis, pdp, idp, kas, api, web, supervisor ...");
  logs->add_flag("-f,--follow", a->follow, "Keep printing new lines");
  logs->add_option("-n,--lines", a->lines, "Lines per log (default 50)");
  logs->callback([a] {
    auto code = a->resolved();
    auto names = orch::child_names(orch::is_anchor(ctx().layout.instance(code)));
    names.push_back("supervisor");
    if (!a->svc.empty()) {
      if (std::find(names.begin(), names.end(), a->svc) == names.end())
        throw UsageError("no service '" + a->svc + "' (one of: " + join(names, ", ") + ")");
      names = {a->svc};
    }
    if (!orch::print_logs(ctx().layout.instance(code), names, a->lines, a->follow)) {
      ctx().out.warn("no logs for " + code + " under " + ctx().layout.instance(code).logs.string());
      ctx().exit_code = kFailed;
    }
  });
}

// stop, start, restart SVC: one service of the instance.
void add_service_commands(CLI::App* fam, Args* a) {
  for (const char* verb : {"stop", "start", "restart"}) {
    auto* sub = fam->add_subcommand(verb, std::string(verb) == "stop" ? "Stop one service; it stays stopped"
                                          : std::string(verb) == "start" ? "Start a stopped service"
                                                                         : "Restart one service");
    add_code_option(sub, a);
    sub->add_option("SVC", a->svc, "Service: postgres, redis, pdp, idp, kas, api, web ...")->required();
    sub->callback([a, verb] { ctx().exit_code = service_verb(a->resolved(), verb, a->svc, ctx().out); });
  }
}

void add_upgrade_command(CLI::App* fam, Args* a) {
  auto* upgrade = fam->add_subcommand("upgrade",
                                      "Upgrade the running instance to this binary: backup, migrate the "
                                      "database forward, restart the services "
                                      "one at a time without closing their ports");
  add_code_option(upgrade, a);
  upgrade->add_flag("--no-backup", a->no_backup, "Skip the pre-upgrade backup (not recommended)");
  upgrade->add_option("--passphrase-file", a->passphrase_file,
                      "File holding the backup's passphrase (else DIVE_BACKUP_PASSPHRASE)");
  upgrade->add_flag("--json", a->json, "Print a JSON summary on stdout");
  upgrade->callback(
      [a] { ctx().exit_code = upgrade_one(a->resolved(), !a->no_backup, a->passphrase_file, a->json); });
}

void add_family(CLI::App& app, bool hub) {
  static std::vector<std::unique_ptr<Args>> storage;
  storage.push_back(std::make_unique<Args>());
  Args* a = storage.back().get();
  a->hub = hub;
  auto* fam = app.add_subcommand(hub ? "hub" : "spoke",
                                 hub ? "Operate the hub (USA): deploy, start, stop, inspect"
                                     : "Operate a spoke instance: deploy, start, stop, inspect");
  fam->require_subcommand(1);
  add_deploy_command(fam, a);
  add_lifecycle_commands(fam, a);
  add_verify_command(fam, a);
  add_logs_command(fam, a);
  add_service_commands(fam, a);
  add_upgrade_command(fam, a);
  add_idp_subcommands(fam, hub);
}

}  // namespace

void add_instance_commands(CLI::App& app) {
  add_family(app, true);
  add_family(app, false);
}

}  // namespace dive::cli
