#include "services/runtime/issuer_allow_list.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>

#include "common/mutex.hpp"
#include "identity/token_validator.hpp"
#include "policy/bundle.hpp"
#include "policy/bundle_store.hpp"
#include "store/pg_pool.hpp"

namespace dive::services {

std::vector<std::string> allowed_issuers_from(const std::string& own_issuer, const Json& bundle_content) {
  std::vector<std::string> partners;
  auto bundle = policy::parse_bundle(bundle_content);
  if (bundle->from_bundle.trusted_issuers)
    for (const auto& [issuer, tenant] : bundle->issuer_tenant)
      if (issuer != own_issuer) partners.push_back(issuer);
  std::sort(partners.begin(), partners.end());
  partners.erase(std::unique(partners.begin(), partners.end()), partners.end());
  std::vector<std::string> out{own_issuer};
  out.insert(out.end(), partners.begin(), partners.end());
  return out;
}

std::map<std::string, std::vector<std::string>> issuer_countries_from(const std::string& own_issuer,
                                                                      const std::string& own_country,
                                                                      const Json& bundle_content) {
  std::map<std::string, std::vector<std::string>> out;
  out[own_issuer] = {own_country};
  const Json issuers =
      bundle_content.is_object() ? bundle_content.value("trusted_issuers", Json::object()) : Json::object();
  if (!issuers.is_object()) return out;
  for (auto it = issuers.begin(); it != issuers.end(); ++it) {
    const Json& e = it.value();
    if (!e.is_object()) continue;
    std::vector<std::string> countries;
    if (e.contains("allowed_countries") && e["allowed_countries"].is_array()) {
      for (const auto& c : e["allowed_countries"])
        if (c.is_string()) countries.push_back(c.get<std::string>());
    } else if (e.contains("country") && e["country"].is_string()) {
      countries.push_back(e["country"].get<std::string>());
    } else if (e.contains("tenant") && e["tenant"].is_string()) {
      countries.push_back(e["tenant"].get<std::string>());
    }
    out[it.key()] = std::move(countries);
  }
  return out;
}

IssuerAllowList::IssuerAllowList(store::PgPool& db, identity::TokenValidator& validator,
                                 std::string own_issuer, std::string own_country, Millis poll_every,
                                 std::function<void()> before_change)
    : db_(db),
      validator_(validator),
      own_(std::move(own_issuer)),
      own_country_(std::move(own_country)),
      before_change_(std::move(before_change)) {
  countries_[own_] = {own_country_};
  validator_.set_allowed_issuers({own_});
  poller_ = std::make_unique<Periodic>(
      poll_every, [this] { poll_once(); },
      [this](const std::string& e) {
        MutexLock lock(mu_);
        if (last_error_ != e) spdlog::warn("trusted issuers not refreshed: {}", e);
        last_error_ = e;
      },
      true);
}

IssuerAllowList::~IssuerAllowList() {
  poller_.reset();
}

void IssuerAllowList::poll_once() {
  std::string rev = db_.with([](pqxx::connection& c) { return policy::active_bundle_revision(c); });
  {
    MutexLock lock(mu_);
    if (rev == revision_) {
      last_error_.clear();
      return;
    }
  }
  auto stored = db_.with([](pqxx::connection& c) { return policy::load_active_bundle(c); });
  if (!stored) return;
  if (before_change_) before_change_();
  auto issuers = allowed_issuers_from(own_, stored->content);
  auto countries = issuer_countries_from(own_, own_country_, stored->content);
  {
    // Countries first: a newly trusted issuer is never accepted without its list.
    MutexLock lock(mu_);
    countries_ = std::move(countries);
  }
  if (issuers != validator_.allowed_issuers()) {
    spdlog::info("accepting tokens from {} issuers (bundle {})", issuers.size(),
                 stored->revision.substr(0, 12));
    validator_.set_allowed_issuers(issuers);
  }
  MutexLock lock(mu_);
  revision_ = stored->revision;
  last_error_.clear();
}

bool IssuerAllowList::country_allowed(const std::string& issuer, const std::string& country) const {
  MutexLock lock(mu_);
  auto it = countries_.find(issuer);
  if (it == countries_.end()) return false;
  return std::find(it->second.begin(), it->second.end(), country) != it->second.end();
}

Json IssuerAllowList::status() const {
  MutexLock lock(mu_);
  return Json{{"revision", revision_},
              {"issuers", validator_.allowed_issuers()},
              {"lastError", last_error_.empty() ? Json(nullptr) : Json(last_error_)}};
}

}  // namespace dive::services
