#include "services/idp/realm_sync.hpp"

#include <spdlog/spdlog.h>

#include <pqxx/pqxx>

#include "audit/event.hpp"
#include "common/fs.hpp"
#include "common/mutex.hpp"
#include "identity/idp/client_store.hpp"
#include "identity/idp/idp_config.hpp"
#include "identity/idp/key_ring.hpp"
#include "identity/idp/key_store.hpp"
#include "identity/idp/seed_users.hpp"
#include "store/pg_pool.hpp"

namespace dive::services::idp {

using namespace identity::idp;

RealmSync::RealmSync(const IdpConfig& cfg, store::PgPool& db, KeyRing& keys, ClientCache& clients,
                     std::function<bool()> schema_ready, audit::Recorder* audit)
    : cfg_(cfg),
      db_(db),
      audit_(audit),
      keys_(keys),
      clients_(clients),
      schema_ready_(std::move(schema_ready)) {}

RealmSync::~RealmSync() {
  poller_.reset();
}

void RealmSync::start() {
  poller_ = std::make_unique<Periodic>(
      Millis(cfg_.key_poll_ms), [this] { poll_once(); },
      [this](const std::string& e) {
        MutexLock lock(mu_);
        if (last_error_ != e) spdlog::warn("realm sync: {}", e);
        last_error_ = e;
      },
      true);
}

void RealmSync::initialise() {
  auto accounts = seed_accounts(Json::parse(read_file(std::filesystem::path(cfg_.data_dir) / "seed.json")),
                                cfg_.code, cfg_.instance_name);
  db_.with([&](pqxx::connection& c) {
    upsert_clients(c, default_clients(cfg_));
    if (ensure_active_key(c, cfg_.kek)) spdlog::info("created the realm's first signing key");
    int n = seed_realm(c, accounts, SeedSecrets{cfg_.test_user_password, cfg_.admin_password, cfg_.kek},
                       cfg_.argon2);
    seeded_ = n;
    spdlog::info("realm {}: {} seeded user(s) created, {} already present", cfg_.realm, n,
                 static_cast<int>(accounts.size()) - n);
    return 0;
  });
  if (const int created = seeded_.load(); audit_ && created > 0) {
    // The realm's users appear: on the record (who they are is in the realm; never their credentials).
    audit::Event e;
    e.type = "admin.user_change";
    e.actor = "idp";
    e.actor_issuer = cfg_.issuer;
    e.source_ip = "local";
    e.resource = cfg_.realm;
    e.outcome = audit::kSuccess;
    e.reason = std::to_string(created) + " seeded user(s) created from data/seed.json";
    e.details =
        audit::details(Json{{"created", created}, {"present", static_cast<int>(accounts.size()) - created}});
    audit_->record(std::move(e));
  }
  initialised_ = true;
}

void RealmSync::poll_once() {
  if (!schema_ready_()) return;
  if (!initialised_) initialise();
  auto set =
      db_.with([&](pqxx::connection& c) { return load_key_set(c, cfg_.kek, cfg_.key_publish_window_s()); });
  auto clients = db_.with([&](pqxx::connection& c) { return load_clients(c); });
  // Clients first: ready() (an active key) then also means the clients are known.
  clients_.replace(clients);
  const bool has_key = set.active.has_value();
  std::string active = set.active ? set.active->kid() : "";
  size_t published = set.published.size();
  if (keys_.install(std::move(set))) spdlog::info("signing keys: active {}, {} published", active, published);
  has_key_ = has_key;
  MutexLock lock(mu_);
  last_error_.clear();
}

Json RealmSync::status() const {
  auto snap = keys_.current();
  MutexLock lock(mu_);
  return Json{{"initialised", initialised_.load()},
              {"activeKid", snap && snap->keys.active ? snap->keys.active->kid() : ""},
              {"publishedKeys", snap ? snap->keys.published.size() : 0},
              {"clients", clients_.size()},
              {"lastError", last_error_}};
}

}  // namespace dive::services::idp
