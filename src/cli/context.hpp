#pragma once
// What every command shares: where state lives, the binary's own path, output, and exit codes.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <optional>
#include <string>

#include "orchestrator/console.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/layout.hpp"

namespace dive::cli {

// Exit codes (docs/ORCHESTRATION.md).
inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;
inline constexpr int kRefused = 2;  // an open orchestration circuit breaker
inline constexpr int kUsage = 64;

// A usage error found after parsing (bad instance code...): exits 64 with the message.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Context {
  orch::Layout layout = orch::Layout::from_env();
  std::filesystem::path exe;
  orch::Console out;
  int exit_code = kOk;
};

Context& ctx();

// Upper-cased three-letter code; HUB means USA. Throws UsageError otherwise.
std::string parse_code(const std::string& raw);
// A spoke code (refuses the hub's).
std::string parse_spoke_code(const std::string& raw);
// The profile for a deploy: --profile when given, else the deployed instance's, else DIVE_PROFILE, else dev.
orch::Profile resolve_profile(const std::string& flag, const std::string& code);
// DIVE_PORT_SHIFT when set, else the deployed instance's shift, else 0.
int resolve_port_shift(const std::string& code);

void add_ports_command(CLI::App& app);
void add_certs_command(CLI::App& app);
void add_instance_commands(CLI::App& app);    // hub ..., spoke ...
void add_federation_commands(CLI::App& app);  // up, down
void add_nuke_command(CLI::App& app);
void add_orchdb_command(CLI::App& app);
void add_policy_command(CLI::App& app);
void add_internal_commands(CLI::App& app);    // serve, supervise
void add_monitoring_commands(CLI::App& app);  // monitoring ..., alerts
void add_seed_commands(CLI::App& app);
void add_audit_command(CLI::App& app);    // audit, audit export|verify|prune
void add_spokes_commands(CLI::App& app);  // hub enroll, hub spokes, spoke credential, federation status
void add_backup_commands(CLI::App& app);  // hub backup, spoke backup, backup verify, restore
void add_kas_commands(CLI::App& app);  // hub kas, spoke kas (after add_instance_commands)      // hub seed,
                                       // spoke seed (after add_instance_commands)

}  // namespace dive::cli
