#pragma once
// Where the validator gets an issuer's JWK Set from. The real source fetches Keycloak's
// `<issuer>/protocol/openid-connect/certs` over HTTPS through a circuit breaker; tests use a fake.
//
//   net::HttpsClient http(net::ClientConfig{.ca_file = ca});
//   resilience::CircuitBreaker idp_breaker("idp", idp_cfg, Clock::system(), &metrics::Registry::global());
//   HttpJwksSource jwks(http, idp_breaker);
//   TokenValidator validator(cfg, jwks);
//
// The validator calls fetch() only for issuers on its allow-list, and only with that issuer string: URLs
// named inside a token (jku, x5u) are never fetched.
#include <functional>
#include <map>
#include <stdexcept>
#include <string>

#include "common/clock.hpp"
#include "common/json.hpp"

namespace dive::net {
class HttpTransport;
}
namespace dive::resilience {
class CircuitBreaker;
}

namespace dive::identity {

// The JWK Set could not be obtained (transport error, open breaker, HTTP status, bad body).
class JwksFetchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class JwksSource {
 public:
  virtual ~JwksSource() = default;
  // The issuer's current JWK Set as JSON. Throws (JwksFetchError or any std::exception) on failure.
  // Must be thread-safe; the validator serialises fetches per issuer.
  virtual Json fetch(const std::string& issuer) = 0;
};

struct HttpJwksOptions {
  Millis timeout{5000};                // deadline of one fetch
  size_t max_body_bytes = 512 * 1024;  // a larger JWK Set is refused
  // Issuer -> JWKS URL, for issuers whose certs endpoint is not the Keycloak default.
  std::map<std::string, std::string> jwks_uris;
};

class HttpJwksSource final : public JwksSource {
 public:
  // The breaker for an issuer (e.g. "idp" for the own IdP, one per federation partner). Must return a
  // breaker that outlives this source.
  using BreakerFor = std::function<resilience::CircuitBreaker&(const std::string& issuer)>;

  // One breaker for every issuer.
  HttpJwksSource(net::HttpTransport& http, resilience::CircuitBreaker& breaker, HttpJwksOptions opts = {});
  HttpJwksSource(net::HttpTransport& http, BreakerFor breaker_for, HttpJwksOptions opts = {});

  // GET the certs URL with Accept: application/json, through the issuer's breaker (a transport error or
  // a non-200 status counts as a failure). Throws JwksFetchError, or resilience::BreakerOpenError while
  // the breaker is open.
  Json fetch(const std::string& issuer) override;

  // Keycloak's layout: issuer (without a trailing '/') + "/protocol/openid-connect/certs".
  static std::string certs_url(std::string_view issuer);

 private:
  net::HttpTransport& http_;
  BreakerFor breaker_for_;
  HttpJwksOptions opts_;
};

}  // namespace dive::identity
