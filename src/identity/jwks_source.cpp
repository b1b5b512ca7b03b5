#include "identity/jwks_source.hpp"

#include "net/https_client.hpp"
#include "resilience/circuit_breaker.hpp"

namespace dive::identity {

HttpJwksSource::HttpJwksSource(net::HttpTransport& http, resilience::CircuitBreaker& breaker,
                               HttpJwksOptions opts)
    : http_(http),
      breaker_for_([&breaker](const std::string&) -> resilience::CircuitBreaker& { return breaker; }),
      opts_(std::move(opts)) {}

HttpJwksSource::HttpJwksSource(net::HttpTransport& http, BreakerFor breaker_for, HttpJwksOptions opts)
    : http_(http), breaker_for_(std::move(breaker_for)), opts_(std::move(opts)) {}

std::string HttpJwksSource::certs_url(std::string_view issuer) {
  while (!issuer.empty() && issuer.back() == '/') issuer.remove_suffix(1);
  return std::string(issuer) + "/protocol/openid-connect/certs";
}

Json HttpJwksSource::fetch(const std::string& issuer) {
  net::ClientRequest req;
  req.method = "GET";
  auto it = opts_.jwks_uris.find(issuer);
  req.url = it != opts_.jwks_uris.end() ? it->second : certs_url(issuer);
  req.headers.set("Accept", "application/json");
  req.timeout = opts_.timeout;
  auto& breaker = breaker_for_(issuer);
  // Everything that makes the answer unusable counts as a failure of the dependency.
  try {
    return breaker.run([&] {
      auto r = http_.send(req);
      if (r.status != 200) throw JwksFetchError("JWKS endpoint answered HTTP " + std::to_string(r.status));
      if (r.body.size() > opts_.max_body_bytes) throw JwksFetchError("JWKS response is too large");
      try {
        return parse_json_limited(r.body, 16);
      } catch (const std::invalid_argument& e) {
        throw JwksFetchError(std::string("JWKS response: ") + e.what());
      }
    });
  } catch (const net::TransportError& e) {
    throw JwksFetchError(std::string("JWKS fetch failed: ") + e.what());
  }
}

}  // namespace dive::identity
