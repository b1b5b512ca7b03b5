// ./dive ports <CODE> [--json]
#include <cstdio>

#include "cli/context.hpp"
#include "orchestrator/ports.hpp"

namespace dive::cli {

void add_ports_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("ports", "Show the ports of an instance code (offset table of data/ports.json)");
  static std::string code;
  static bool json = false;
  cmd->add_option("CODE", code, "Three-letter instance code (any case)")->required();
  cmd->add_flag("--json", json, "Machine-readable output");
  cmd->callback([] {
    auto c = parse_code(code);
    const int shift = resolve_port_shift(c);
    auto p = orch::resolve_ports(c, shift);
    if (json) {
      std::printf("%s\n", p.to_json_text().c_str());
      return;
    }
    std::printf("%s  %s  offset %d (%s)\n", p.code.c_str(), orch::instance_name(p.code).c_str(), p.offset,
                orch::to_string(p.group));
    for (const auto& [name, port] : orch::named_ports(p.ports))
      std::printf("  %-18s %d\n", name.c_str(), port);
    if (orch::is_hub(c)) {
      std::printf("  %-18s %d (shared token blacklist)\n", "blacklist", orch::blacklist_redis_port(shift));
      std::printf("  %-18s %d\n", "blacklist_exporter", orch::blacklist_redis_exporter_port(shift));
    }
  });
}

}  // namespace dive::cli
