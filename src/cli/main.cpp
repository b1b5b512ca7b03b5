// dive: the one command that deploys, operates and serves a DIVE federation (docs/ORCHESTRATION.md).
#include <spdlog/spdlog.h>

#include <cstdio>

#include "cli/context.hpp"
#include "common/paths.hpp"

int main(int argc, char** argv) {
  using namespace dive::cli;
  CLI::App app{
      "DIVE: coalition identity and access federation.\n"
      "Quick start:  ./dive up      (hub + FRA + GBR, healthy, URLs printed)\n"
      "              ./dive test    (build and run every test suite)",
      "dive"};
  app.require_subcommand(1);
  app.footer(
      "Also (run by ./dive, the launcher): test [unit|integration|resilience]\n"
      "State lives in $DIVE_HOME (default .dive/ in the checkout). DIVE_PORT_SHIFT=N moves every port by N.\n"
      "Exit codes: 0 ok, 1 failure, 2 refused by an open orchestration circuit breaker, 64 usage error.");
  ctx().exe = dive::self_exe();
  // Library diagnostics stay quiet in CLI commands (their outcome is reported by the command itself);
  // `serve` and `supervise` set up their own logging.
  spdlog::set_level(spdlog::level::warn);
  add_federation_commands(app);
  add_instance_commands(app);
  add_seed_commands(app);
  add_kas_commands(app);
  add_backup_commands(app);
  add_spokes_commands(app);
  add_audit_command(app);
  add_ports_command(app);
  add_certs_command(app);
  add_nuke_command(app);
  add_orchdb_command(app);
  add_policy_command(app);
  add_monitoring_commands(app);
  add_internal_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kUsage;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return kFailed;
  }
  return ctx().exit_code;
}
