#include "policy/bundle_store.hpp"

#include <pqxx/pqxx>

#include "policy/bundle.hpp"

namespace dive::policy {

std::optional<StoredBundle> load_active_bundle(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec(
      "SELECT b.revision, b.source, b.content::text FROM policy_bundle_active a "
      "JOIN policy_bundles b ON b.revision = a.revision");
  if (r.empty()) return std::nullopt;
  return StoredBundle{r[0][0].as<std::string>(), r[0][1].as<std::string>(),
                      Json::parse(r[0][2].as<std::string>())};
}

std::string active_bundle_revision(pqxx::connection& c) {
  pqxx::nontransaction tx(c);
  auto r = tx.exec("SELECT revision FROM policy_bundle_active");
  return r.empty() ? "" : r[0][0].as<std::string>();
}

std::string store_bundle(pqxx::connection& c, const Json& content, const std::string& source, bool activate) {
  auto parsed = parse_bundle(content);  // throws BundleError: an invalid bundle never reaches the table
  pqxx::work tx(c);
  tx.exec_params(
      "INSERT INTO policy_bundles (revision, content, source) VALUES ($1, $2::jsonb, $3) "
      "ON CONFLICT (revision) DO NOTHING",
      parsed->revision, content.dump(), source);
  if (activate)
    tx.exec_params(
        "INSERT INTO policy_bundle_active (singleton, revision) VALUES (true, $1) "
        "ON CONFLICT (singleton) DO UPDATE SET revision = EXCLUDED.revision, activated_at = now() "
        "WHERE policy_bundle_active.revision <> EXCLUDED.revision",
        parsed->revision);
  tx.commit();
  return parsed->revision;
}

Json deployment_bundle(const std::vector<TrustedInstance>& instances) {
  Json issuers = Json::object();
  for (const auto& i : instances)
    issuers[i.issuer] =
        Json{{"tenant", i.code}, {"name", i.name}, {"country", i.code}, {"trust_level", "HIGH"}};
  return Json{{"about", "DIVE deployment bundle: trusted issuers of the deployed instances; built-in tables"},
              {"trusted_issuers", issuers}};
}

}  // namespace dive::policy
