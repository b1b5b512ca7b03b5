// ./dive hub seed [N] [--seed-random S]   and   ./dive spoke seed <CODE> [N] [--seed-random S]
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/context.hpp"
#include "common/strings.hpp"
#include "orchestrator/ports.hpp"
#include "orchestrator/seeding.hpp"

namespace dive::cli {

namespace {

struct SeedArgs {
  std::string code;
  int count = 500;
  int64_t seed_random = -1;
  bool json = false;
};

void run_seed(const SeedArgs& a, const std::string& code) {
  if (!std::filesystem::exists(ctx().layout.instance(code).instance_json))
    throw UsageError(code + " is not deployed here (" + ctx().layout.home.string() + ")");
  orch::SeedRequest req;
  req.code = code;
  req.count = a.count;
  if (a.seed_random >= 0) req.seed_random = static_cast<uint64_t>(a.seed_random);
  if (a.count < 1 || a.count > orch::kMaxSeedCount)
    throw UsageError("N must be between 1 and " + std::to_string(orch::kMaxSeedCount));
  size_t last_pct = 0;
  if (!a.json)
    req.progress = [&](size_t done, size_t total) {
      size_t pct = done * 100 / std::max<size_t>(total, 1);
      if (pct / 10 != last_pct / 10 || done == total) {
        std::fprintf(stderr, "  %zu/%zu documents (%zu%%)\n", done, total, pct);
        last_pct = pct;
      }
    };
  auto rep = orch::seed_instance(ctx().layout, req);
  Json out{{"code", code},
           {"seedRandom", rep.seed_random},
           {"generated", rep.generated},
           {"inserted", rep.inserted},
           {"skippedExisting", rep.generated - rep.inserted},
           {"totalDocuments", rep.total_documents},
           {"seconds", rep.seconds},
           {"documentsPerSecond", rep.seconds > 0 ? rep.generated / rep.seconds : 0.0},
           {"kasKid", rep.kas_kid}};
  if (a.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  ctx().out.ok(code + ": seeded " + std::to_string(rep.inserted) + " documents in " +
               std::to_string(rep.seconds).substr(0, 5) + " s (" +
               std::to_string(static_cast<int64_t>(out["documentsPerSecond"].get<double>())) +
               "/s), --seed-random " + std::to_string(rep.seed_random) + "; " +
               std::to_string(rep.total_documents) + " documents in the instance");
  if (rep.inserted < rep.generated)
    ctx().out.info(std::to_string(rep.generated - rep.inserted) +
                   " ids existed already (same --seed-random) and were kept as they were");
}

void add_seed_commands(CLI::App& family, bool hub) {
  static std::vector<std::unique_ptr<SeedArgs>> storage;
  storage.push_back(std::make_unique<SeedArgs>());
  SeedArgs* a = storage.back().get();
  auto* seed = family.add_subcommand(
      "seed", "Generate N protected documents (default 500, up to 20,000), encrypted to the instance's KAS");
  if (!hub) seed->add_option("CODE", a->code, "Spoke instance code, e.g. FRA")->required();
  seed->add_option("N", a->count, "Number of documents (1..20000)");
  seed->add_option("--seed-random", a->seed_random,
                   "Seed value: the same value gives the same ids, titles, labels and contents "
                   "(keys and IVs are always fresh); existing ids are skipped");
  seed->add_flag("--json", a->json, "Machine-readable summary");
  seed->callback([a, hub] { run_seed(*a, hub ? std::string(orch::kHubCode) : parse_spoke_code(a->code)); });
}

}  // namespace

void add_seed_commands(CLI::App& app) {
  add_seed_commands(*app.get_subcommand("hub"), true);
  add_seed_commands(*app.get_subcommand("spoke"), false);
}

}  // namespace dive::cli
