// ./dive nuke all|hub|spoke <CODE> --confirm
#include "cli/context.hpp"
#include "orchestrator/nuke.hpp"
#include "orchestrator/ports.hpp"

namespace dive::cli {

void add_nuke_command(CLI::App& app) {
  static std::string what, code;
  static bool confirm = false;
  auto* nuke =
      app.add_subcommand("nuke", "Stop and DELETE instances (processes this tool started, then their state)");
  nuke->add_option("WHAT", what, "all | hub | spoke")
      ->required()
      ->check(CLI::IsMember({"all", "hub", "spoke"}));
  nuke->add_option("CODE", code, "Spoke code (with 'spoke')");
  nuke->add_flag("--confirm,-y,--yes", confirm, "Required: this deletes databases, keys and logs");
  nuke->callback([] {
    if (what == "spoke" && code.empty()) throw UsageError("nuke spoke needs a CODE");
    if (what != "spoke" && !code.empty()) throw UsageError("a CODE goes only with 'nuke spoke'");
    if (!confirm) {
      ctx().out.fail("refusing to delete without --confirm (nuke " + what + (code.empty() ? "" : " " + code) +
                     " removes its databases, keys and logs under " + ctx().layout.home.string() + ")");
      ctx().exit_code = kFailed;
      return;
    }
    bool ok;
    if (what == "all")
      ok = orch::nuke_all(ctx().layout, ctx().out);
    else if (what == "hub")
      ok = orch::nuke_instance(ctx().layout, std::string(orch::kHubCode), ctx().out);
    else
      ok = orch::nuke_instance(ctx().layout, parse_spoke_code(code), ctx().out);
    ctx().exit_code = ok ? kOk : kFailed;
  });
}

}  // namespace dive::cli
