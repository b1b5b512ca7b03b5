#pragma once
// The realm's OIDC clients in PostgreSQL (table idp_clients). The idp keeps them in memory (ClientCache)
// so that a token request costs no query.
#include <map>
#include <memory>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "common/mutex.hpp"
#include "identity/idp/client.hpp"

namespace dive::identity::idp {

// Inserts or updates each client (secrets.json is the source of truth for the secrets).
void upsert_clients(pqxx::connection& c, const std::vector<Client>& clients);
std::vector<Client> load_clients(pqxx::connection& c);

// The clients, replaced as a whole on reload. Thread-safe: request threads read a snapshot (the pointer is
// copied under mu_, the map itself is immutable) while the reload thread replaces it.
class ClientCache {
 public:
  void replace(const std::vector<Client>& clients);
  std::optional<Client> find(const std::string& client_id) const;
  size_t size() const;

 private:
  mutable Mutex mu_;
  std::shared_ptr<const std::map<std::string, Client>> clients_ GUARDED_BY(mu_) =
      std::make_shared<std::map<std::string, Client>>();
};

}  // namespace dive::identity::idp
