#include "services/runtime/issuer_allow_list.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <pqxx/pqxx>

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

IssuerAllowList::IssuerAllowList(store::PgPool& db, identity::TokenValidator& validator,
                                 std::string own_issuer, Millis poll_every)
    : db_(db), validator_(validator), own_(std::move(own_issuer)) {
  validator_.set_allowed_issuers({own_});
  poller_ = std::make_unique<Periodic>(
      poll_every, [this] { poll_once(); },
      [this](const std::string& e) {
        std::lock_guard lock(mu_);
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
    std::lock_guard lock(mu_);
    if (rev == revision_) {
      last_error_.clear();
      return;
    }
  }
  auto stored = db_.with([](pqxx::connection& c) { return policy::load_active_bundle(c); });
  if (!stored) return;
  auto issuers = allowed_issuers_from(own_, stored->content);
  if (issuers != validator_.allowed_issuers()) {
    spdlog::info("accepting tokens from {} issuers (bundle {})", issuers.size(),
                 stored->revision.substr(0, 12));
    validator_.set_allowed_issuers(issuers);
  }
  std::lock_guard lock(mu_);
  revision_ = stored->revision;
  last_error_.clear();
}

Json IssuerAllowList::status() const {
  std::lock_guard lock(mu_);
  return Json{{"revision", revision_},
              {"issuers", validator_.allowed_issuers()},
              {"lastError", last_error_.empty() ? Json(nullptr) : Json(last_error_)}};
}

}  // namespace dive::services
