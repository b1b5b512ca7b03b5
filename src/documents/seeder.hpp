#pragma once
// Seeding: documents of a SeedPlan encrypted for real (ztdf::encrypt to the instance's KAS key) and stored
// in batches, encryption on worker threads overlapping the inserts of earlier batches.
#include <pqxx/connection>

#include <cstdint>
#include <functional>
#include <string>

#include "documents/kas_keys.hpp"
#include "documents/seed_plan.hpp"

namespace dive::documents {

struct SeedOptions {
  int count = 500;
  uint64_t seed_random = 0;  // ids and contents are a function of (seed_random, index)
  uint64_t first_index = 1;
  int threads = 2;  // encryption workers
  size_t batch_size = 100;
  std::string kas_url;  // the KAO's url (the instance's kas)
  // Called on the calling thread after each stored batch.
  std::function<void(size_t done, size_t total)> progress;
};

struct SeedResult {
  size_t generated = 0;
  size_t inserted = 0;  // fewer than generated when some ids existed already (same seed value)
  double seconds = 0;
};

// Throws (after the batches stored so far stay stored) on a database or encryption error.
SeedResult seed_documents(pqxx::connection& conn, const SeedPlan& plan, const KasKey& kas,
                          const SeedOptions& opts);

}  // namespace dive::documents
