#pragma once
// Seeding an instance's documents (`./dive hub seed [N]`, `./dive spoke seed <CODE> [N]`, and the SEEDING
// step of deploy): the seed plan of <data_dir>/seed.json for the instance, encrypted to its KAS key (created
// when the kas has not made one yet), stored in its database.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "orchestrator/layout.hpp"

namespace dive::orch {

struct SeedRequest {
  std::string code;
  int count = 500;                      // 1..20,000
  std::optional<uint64_t> seed_random;  // none: a fresh value (new documents every run)
  bool top_up = false;                  // deploy: `count` is the number of seeded documents wanted in total
  std::function<void(size_t done, size_t total)> progress;
};

struct SeedReport {
  uint64_t seed_random = 0;
  size_t generated = 0, inserted = 0;
  int64_t total_documents = 0;  // in the instance after seeding
  double seconds = 0;
  std::string kas_kid;
};

inline constexpr int kMaxSeedCount = 20000;

// Throws std::invalid_argument for a count out of range, std::runtime_error (naming what failed) otherwise.
SeedReport seed_instance(const Layout& layout, const SeedRequest& req);

}  // namespace dive::orch
