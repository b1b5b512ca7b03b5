#include "identity/idp/client_store.hpp"

#include <pqxx/pqxx>

#include "common/json.hpp"
#include "common/mutex.hpp"
#include "identity/idp/json_strings.hpp"

namespace dive::identity::idp {

void upsert_clients(pqxx::connection& c, const std::vector<Client>& clients) {
  pqxx::work tx(c);
  for (const auto& cl : clients) {
    std::optional<std::string> secret;
    if (cl.confidential) secret = cl.secret_sha256;
    tx.exec_params(
        "INSERT INTO idp_clients (client_id, confidential, secret_sha256, grant_types, redirect_uris, "
        "post_logout_redirect_uris, may_introspect) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7) "
        "ON CONFLICT (client_id) DO UPDATE SET confidential = EXCLUDED.confidential, "
        "secret_sha256 = EXCLUDED.secret_sha256, grant_types = EXCLUDED.grant_types, "
        "redirect_uris = EXCLUDED.redirect_uris, post_logout_redirect_uris = "
        "EXCLUDED.post_logout_redirect_uris, "
        "may_introspect = EXCLUDED.may_introspect, updated_at = now()",
        cl.client_id, cl.confidential, secret, Json(cl.grant_types).dump(), Json(cl.redirect_uris).dump(),
        Json(cl.post_logout_redirect_uris).dump(), cl.may_introspect);
  }
  tx.commit();
}

std::vector<Client> load_clients(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  std::vector<Client> out;
  for (const auto& r :
       tx.exec("SELECT client_id, confidential, COALESCE(secret_sha256, ''), grant_types::text, "
               "redirect_uris::text, "
               "post_logout_redirect_uris::text, may_introspect FROM idp_clients ORDER BY client_id")) {
    Client cl;
    cl.client_id = r[0].as<std::string>();
    cl.confidential = r[1].as<bool>();
    cl.secret_sha256 = r[2].as<std::string>();
    cl.grant_types = json_strings(r[3].as<std::string>());
    cl.redirect_uris = json_strings(r[4].as<std::string>());
    cl.post_logout_redirect_uris = json_strings(r[5].as<std::string>());
    cl.may_introspect = r[6].as<bool>();
    out.push_back(std::move(cl));
  }
  return out;
}

void ClientCache::replace(const std::vector<Client>& clients) {
  auto m = std::make_shared<std::map<std::string, Client>>();
  for (const auto& c : clients) (*m)[c.client_id] = c;
  MutexLock lock(mu_);
  clients_ = std::move(m);
}

std::optional<Client> ClientCache::find(const std::string& client_id) const {
  std::shared_ptr<const std::map<std::string, Client>> m;
  {
    MutexLock lock(mu_);
    m = clients_;
  }
  auto it = m->find(client_id);
  if (it == m->end()) return std::nullopt;
  return it->second;
}

size_t ClientCache::size() const {
  MutexLock lock(mu_);
  return clients_->size();
}

}  // namespace dive::identity::idp
