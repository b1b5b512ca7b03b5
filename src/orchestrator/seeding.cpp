#include "orchestrator/seeding.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <stdexcept>

#include "common/encoding.hpp"
#include "common/fs.hpp"
#include "common/random.hpp"
#include "documents/kas_keys.hpp"
#include "documents/resource_store.hpp"
#include "documents/seeder.hpp"
#include "orchestrator/instance_config.hpp"

namespace dive::orch {

SeedReport seed_instance(const Layout& layout, const SeedRequest& req) {
  if (req.count < 1 || req.count > kMaxSeedCount)
    throw std::invalid_argument("document count must be between 1 and " + std::to_string(kMaxSeedCount) +
                                ", got " + std::to_string(req.count));
  auto paths = layout.instance(req.code);
  Json cfg = read_instance_config(paths);
  Json sec = read_secrets(paths);
  std::string kek = documents::decode_key_encryption_key(sec.value("kas_key_encryption_key", ""));

  std::filesystem::path seed_file = std::filesystem::path(cfg.value("data_dir", "")) / "seed.json";
  auto text = try_read_file(seed_file);
  if (!text) throw std::runtime_error("cannot read " + seed_file.string());
  documents::SeedPlan plan = documents::SeedPlan::from_seed_json(Json::parse(*text), req.code);
  // Unguessable ids (issue 11 §7): keyed by a secret of the instance, separated from its use as a KEK.
  plan.set_id_key(hmac_sha256(kek, "dive-seed-document-ids"));

  pqxx::connection conn(instance_db_conninfo(paths, 5));
  documents::KasKey key = documents::ensure_active_kas_key(conn, kek);

  SeedReport rep;
  rep.kas_kid = key.kid;
  documents::SeedOptions o;
  o.count = req.count;
  if (req.top_up) {
    o.count = static_cast<int>(std::max<int64_t>(0, req.count - documents::count_resources(conn, "seed")));
    if (o.count == 0) {
      rep.total_documents = documents::count_resources(conn);
      return rep;
    }
  }
  // 53 bits: the value survives JSON and JavaScript clients unchanged.
  o.seed_random = req.seed_random ? *req.seed_random : (Random::system().next_u64() >> 11);
  o.kas_url = cfg["urls"].value("kas", "");
  o.progress = req.progress;
  auto r = documents::seed_documents(conn, plan, key, o);

  rep.seed_random = o.seed_random;
  rep.generated = r.generated;
  rep.inserted = r.inserted;
  rep.seconds = r.seconds;
  rep.total_documents = documents::count_resources(conn);
  return rep;
}

}  // namespace dive::orch
