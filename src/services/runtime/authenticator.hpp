#pragma once
// Bearer-token authentication shared by api and kas (docs/REVOCATION.md): the token from the
// Authorization header is fully validated (TokenValidator), then checked against the in-memory
// revocation mirror. Fails closed: 503 when the issuer's keys cannot be fetched or when the mirror has
// not synchronised for longer than revocation.max_staleness. A refusal is 401
// {"error":"Unauthorized","message":..,"requestId":..}; the reason goes to the log only, the token never.
//
//   Authenticator auth(validator, mirror, registry);
//   auto a = auth.authenticate(req);
//   if (!a) return *a.failure;
//   const VerifiedToken& t = *a.token;
#include <memory>
#include <optional>
#include <string>

#include "identity/verified_token.hpp"
#include "net/http.hpp"

namespace dive::identity {
class TokenValidator;
class RevocationMirror;
}  // namespace dive::identity
namespace dive::metrics {
class Registry;
class Counter;
}  // namespace dive::metrics

namespace dive::services {

class IssuerAllowList;

// The user a token speaks for, as revocation knows it: uniqueID, else sub.
std::string revocation_subject(const identity::VerifiedToken& t);
// The token's issue time in ms (iat_ms when present, else iat * 1000).
int64_t issued_ms(const identity::VerifiedToken& t);

// Thread-safe: fixed after construction; authenticate() runs on every worker thread and what it consults
// (validator, mirror, allow-list) locks itself.
class Authenticator {
 public:
  struct Outcome {
    std::shared_ptr<const identity::VerifiedToken> token;  // set when authenticated
    std::optional<net::Response> failure;                  // 401 or 503 otherwise
    explicit operator bool() const { return token != nullptr; }
  };

  // With a registry, counts dive_v3_auth_requests_total{result}.
  // With `countries`, a token is accepted only when its issuer may claim its countryOfAffiliation.
  Authenticator(identity::TokenValidator& validator, const identity::RevocationMirror& mirror,
                metrics::Registry* registry = nullptr, const IssuerAllowList* countries = nullptr);

  Outcome authenticate(const net::Request& req) const;

 private:
  enum Result { Ok, Missing, Invalid, Revoked, KeysUnavailable, Stale, CountryNotAllowed, kResults };
  Outcome fail(Result r, int status, const std::string& message, const net::Request& req) const;
  void count(Result r) const;

  identity::TokenValidator& validator_;
  const identity::RevocationMirror& mirror_;
  const IssuerAllowList* countries_;
  metrics::Counter* m_[kResults] = {};
};

}  // namespace dive::services
