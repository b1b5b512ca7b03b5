#pragma once
// The issuers api and kas accept tokens from (docs/REVOCATION.md): the own idp's issuer (instance.json
// "issuer") plus the trusted issuers of the active policy bundle in the instance database — the deployment
// bundle lists every deployed instance, so a federation partner is trusted once the orchestrator has
// published it. The active revision is polled (a cheap query); on a change the validator's allow-list is
// replaced (which also empties its token cache).
//
// Thread-safe: request threads ask country_allowed() and status() while the poller's thread replaces the
// lists; mu_ guards them.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mutex.hpp"
#include "common/periodic.hpp"

namespace dive::identity {
class TokenValidator;
}
namespace dive::store {
class PgPool;
}

namespace dive::services {

// The countries each issuer's tokens may claim (countryOfAffiliation), from the bundle's trusted_issuers
// (allowed_countries, else country, else tenant); the own issuer may claim `own_country` unless the bundle
// says otherwise. An issuer absent from the map is not trusted at all (the allow-list refuses it first).
std::map<std::string, std::vector<std::string>> issuer_countries_from(const std::string& own_issuer,
                                                                      const std::string& own_country,
                                                                      const Json& bundle_content);

// Own issuer first, then the bundle's trusted issuers (sorted, without duplicates). A bundle without its
// own trusted_issuers table adds nothing (the policy's built-in defaults are not identity providers here).
std::vector<std::string> allowed_issuers_from(const std::string& own_issuer, const Json& bundle_content);

class IssuerAllowList {
 public:
  // `before_change` runs before a new list is applied (the service's CA set is refreshed there, so that a
  // newly trusted partner's keys can be fetched at once).
  IssuerAllowList(store::PgPool& db, identity::TokenValidator& validator, std::string own_issuer,
                  std::string own_country, Millis poll_every, std::function<void()> before_change = {});
  ~IssuerAllowList();
  Json status() const;  // {revision, issuers, lastError}
  // True when a token of `issuer` may claim `country` (docs/FEDERATION.md: a partner's IdP cannot mint
  // users of another nation).
  bool country_allowed(const std::string& issuer, const std::string& country) const;

 private:
  void poll_once();

  store::PgPool& db_;
  identity::TokenValidator& validator_;
  std::string own_, own_country_;
  std::function<void()> before_change_;
  mutable Mutex mu_;
  std::map<std::string, std::vector<std::string>> countries_ GUARDED_BY(mu_);
  std::string revision_ GUARDED_BY(mu_);
  std::string last_error_ GUARDED_BY(mu_);
  std::unique_ptr<Periodic> poller_;  // last: stopped first
};

}  // namespace dive::services
