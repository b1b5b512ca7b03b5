// HttpJwksSource over a fake transport: the URL it fetches, the breaker it goes through, and (with the
// validator) that URLs named in a token are never requested.
#include "identity/jwks_source.hpp"

#include <gtest/gtest.h>

#include <mutex>

#include "identity/jws.hpp"
#include "identity/token_validator.hpp"
#include "identity_test_util.hpp"
#include "net/https_client.hpp"
#include "resilience/circuit_breaker.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::testing;
using namespace std::chrono_literals;

namespace {

class FakeTransport final : public net::HttpTransport {
 public:
  net::ClientResponse send(const net::ClientRequest& req) override {
    std::lock_guard lock(mu);
    urls.push_back(req.url);
    last = req;
    if (fail) throw net::TransportError(net::TransportError::Kind::Connect, "connection refused");
    net::ClientResponse r;
    r.status = status;
    r.body = body;
    return r;
  }
  std::mutex mu;
  std::vector<std::string> urls;
  net::ClientRequest last;
  bool fail = false;
  int status = 200;
  std::string body;
};

resilience::BreakerConfig breaker_cfg() {
  resilience::BreakerConfig c;
  c.failure_threshold = 3;
  c.open_timeout = 30000ms;
  c.success_threshold = 2;
  return c;
}

}  // namespace

TEST(HttpJwksSource, FetchesKeycloakCertsUrl) {
  FakeTransport http;
  http.body = to_jwks(std::vector<VerifyKey>{rsa_key().public_key()}).dump();
  FakeClock clock;
  resilience::CircuitBreaker breaker("idp", breaker_cfg(), clock);
  HttpJwksSource src(http, breaker);
  Json j = src.fetch(kIssuer);
  EXPECT_EQ(parse_jwks(j).keys.at(0).kid(), "rsa-1");
  ASSERT_EQ(http.urls.size(), 1u);
  EXPECT_EQ(http.urls[0], std::string(kIssuer) + "/protocol/openid-connect/certs");
  EXPECT_EQ(http.last.method, "GET");
  EXPECT_EQ(http.last.headers.get("Accept"), "application/json");
  EXPECT_EQ(HttpJwksSource::certs_url("https://h/realms/x/"),
            "https://h/realms/x/protocol/openid-connect/certs");
}

TEST(HttpJwksSource, UriOverridePerIssuer) {
  FakeTransport http;
  http.body = R"({"keys":[]})";
  FakeClock clock;
  resilience::CircuitBreaker breaker("idp", breaker_cfg(), clock);
  HttpJwksOptions opts;
  opts.jwks_uris[kIssuer] = "https://127.0.0.1:8443/internal/certs";
  HttpJwksSource src(http, breaker, opts);
  src.fetch(kIssuer);
  EXPECT_EQ(http.urls.at(0), "https://127.0.0.1:8443/internal/certs");
}

TEST(HttpJwksSource, FailuresGoThroughTheBreaker) {
  FakeTransport http;
  FakeClock clock;
  resilience::CircuitBreaker breaker("idp", breaker_cfg(), clock);
  HttpJwksOptions opts;
  opts.max_body_bytes = 64;
  HttpJwksSource src(http, breaker, opts);
  http.status = 503;
  EXPECT_THROW(src.fetch(kIssuer), JwksFetchError);
  http.status = 200;
  http.body = "<html>";
  EXPECT_THROW(src.fetch(kIssuer), JwksFetchError);
  http.fail = true;
  EXPECT_THROW(src.fetch(kIssuer), JwksFetchError);
  EXPECT_EQ(breaker.state(), resilience::BreakerState::Open);
  size_t calls = http.urls.size();
  EXPECT_THROW(src.fetch(kIssuer), resilience::BreakerOpenError);
  EXPECT_EQ(http.urls.size(), calls);  // open: no call made
  clock.advance(30s);
  http.fail = false;
  http.body = std::string(65, ' ');
  EXPECT_THROW(src.fetch(kIssuer), JwksFetchError);  // too large
}

TEST(HttpJwksSource, BreakerPerIssuer) {
  FakeTransport http;
  http.fail = true;
  FakeClock clock;
  resilience::CircuitBreaker idp("idp", breaker_cfg(), clock),
      partner("federation-fra", breaker_cfg(), clock);
  HttpJwksSource src(http, [&](const std::string& iss) -> resilience::CircuitBreaker& {
    return iss == kIssuer ? idp : partner;
  });
  for (int i = 0; i < 3; ++i) EXPECT_THROW(src.fetch(kIssuerB), JwksFetchError);
  EXPECT_EQ(partner.state(), resilience::BreakerState::Open);
  EXPECT_EQ(idp.state(), resilience::BreakerState::Closed);
}

TEST(HttpJwksSource, ValidatorNeverRequestsUrlsNamedInTheToken) {
  FakeTransport http;
  http.body = to_jwks(std::vector<VerifyKey>{rsa_key().public_key()}).dump();
  FakeClock clock;
  resilience::CircuitBreaker breaker("idp", breaker_cfg(), clock);
  HttpJwksSource src(http, breaker);
  ValidatorConfig cfg;
  cfg.allowed_issuers = {kIssuer};
  cfg.audience = "dive-api";
  TokenValidator v(cfg, src, clock);
  int64_t now = clock.unix_seconds();
  Json claims = {{"iss", kIssuer}, {"sub", "u"}, {"aud", "dive-api"}, {"exp", now + 60}, {"iat", now}};
  for (const char* member : {"jku", "x5u"}) {
    for (const char* kid : {"attacker", "rsa-1"}) {
      Json h = {{"alg", "RS256"}, {"kid", kid}, {member, "https://attacker.example/keys"}};
      EXPECT_FALSE(v.validate(forge(h, claims, attacker_key())));
      clock.advance(11s);
    }
  }
  Json evil_iss = claims;
  evil_iss["iss"] = "https://attacker.example";
  EXPECT_FALSE(v.validate(sign_claims(evil_iss, attacker_key())));
  ASSERT_FALSE(http.urls.empty());
  for (const auto& u : http.urls) EXPECT_EQ(u, std::string(kIssuer) + "/protocol/openid-connect/certs");
  EXPECT_TRUE(v.validate(sign_claims(claims, rsa_key())));
}
