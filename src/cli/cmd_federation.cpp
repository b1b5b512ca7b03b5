// ./dive up [--spokes FRA,GBR] [--seed N] [--profile dev|test]   and   ./dive down
#include <thread>

#include "cli/context.hpp"
#include "cli/instance_ops.hpp"
#include "common/strings.hpp"
#include "orchestrator/monitoring_stack.hpp"
#include "orchestrator/ports.hpp"

namespace dive::cli {

namespace {

// The --spokes list: parsed codes, duplicates dropped, in the given order.
std::vector<std::string> spoke_codes_of(const std::string& spokes) {
  std::vector<std::string> codes;
  for (const auto& s : split(spokes, ',')) {
    auto c = parse_spoke_code(trim(s));
    if (std::find(codes.begin(), codes.end(), c) == codes.end()) codes.push_back(c);
  }
  return codes;
}

// Spokes deploy in parallel: each has its own ports, directories and lock. kOk when all did, else
// kRefused if any was refused, else kFailed.
int deploy_spokes(const std::vector<std::string>& codes, const std::string& profile,
                  std::optional<int> seed_n) {
  int rc = kOk;
  std::vector<int> rcs(codes.size(), kOk);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < codes.size(); ++i)
    threads.emplace_back(
        [&, i] { rcs[i] = deploy_one(codes[i], profile, seed_n, ctx().out.with_prefix(codes[i])); });
  for (auto& t : threads) t.join();
  for (int r : rcs)
    if (r != kOk) rc = (rc == kRefused || r == kRefused) ? kRefused : kFailed;
  return rc;
}

// ./dive up: the hub, then its spokes, then (unless --no-monitoring) the monitoring stack; prints
// the URLs and a one-line verdict.
int federation_up(const std::string& spokes, const std::string& profile, int seed, bool no_monitoring) {
  const std::vector<std::string> codes = spoke_codes_of(spokes);
  std::optional<int> seed_n;
  if (seed >= 0) seed_n = seed;
  auto t0 = std::chrono::steady_clock::now();
  int rc = deploy_one(std::string(orch::kHubCode), profile, seed_n, ctx().out.with_prefix("USA"));
  if (rc != kOk) return rc;
  rc = deploy_spokes(codes, profile, seed_n);
  std::vector<std::string> all{std::string(orch::kHubCode)};
  all.insert(all.end(), codes.begin(), codes.end());
  if (!no_monitoring) {
    orch::MonitoringOptions mo;
    if (!profile.empty()) mo.profile = orch::parse_profile(profile);
    mo.port_shift = resolve_port_shift(std::string(orch::kHubCode));
    mo.dive_exe = ctx().exe;
    if (orch::monitoring_up(ctx().layout, mo, ctx().out.with_prefix("MON")) != kOk && rc == kOk) rc = kFailed;
  }
  print_urls(all);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  if (rc == kOk)
    ctx().out.ok("federation up: " + join(all, ", ") + " in " + format_duration_ms(ms));
  else
    ctx().out.fail("federation partly up after " + format_duration_ms(ms) + "; see the messages above");
  return rc;
}

}  // namespace

void add_federation_commands(CLI::App& app) {
  static std::string spokes = "FRA,GBR";
  static std::string profile;
  static int seed = -1;
  static bool no_monitoring = false;
  auto* up =
      app.add_subcommand("up", "Deploy (or resume) the hub and its spokes, verified, and print their URLs");
  up->add_option("--spokes", spokes, "Comma-separated spoke codes (default FRA,GBR; \"\" for none)");
  up->add_option("--seed", seed, "Documents to seed per instance");
  up->add_option("--profile", profile, "dev (default) or test");
  up->add_flag("--no-monitoring", no_monitoring,
               "Do not start Prometheus and Alertmanager (./dive monitoring up later)");
  up->callback([] { ctx().exit_code = federation_up(spokes, profile, seed, no_monitoring); });

  auto* down = app.add_subcommand(
      "down", "Stop every instance (spokes first, then the hub) and the monitoring stack; data is kept");
  down->callback([] {
    auto codes = ctx().layout.deployed_codes();
    std::stable_partition(codes.begin(), codes.end(), [](const std::string& c) { return !orch::is_hub(c); });
    if (codes.empty()) ctx().out.info("no instances under " + ctx().layout.instances_dir().string());
    for (const auto& c : codes) stop_one(c, ctx().out);
    if (int n = orch::monitoring_down(ctx().layout); n > 0)
      ctx().out.ok("monitoring stopped (" + std::to_string(n) + " processes)");
  });
}

}  // namespace dive::cli
