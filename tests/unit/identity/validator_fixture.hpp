#pragma once
// A TokenValidator over a fake JWKS source and a fake clock, trusting kIssuer whose set holds the RS256
// key "rsa-1", the PS256 key "rsa-ps" and the ES256 key "ec-1".
#include <gtest/gtest.h>

#include <memory>

#include "common/clock.hpp"
#include "identity/jws.hpp"
#include "identity/ossl.hpp"
#include "identity/token_validator.hpp"
#include "identity_test_util.hpp"
#include "metrics/registry.hpp"

namespace dive::identity::testing {

class ValidatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source.set(kIssuer, to_jwks(std::vector<VerifyKey>{rsa_key().public_key(), ps_key().public_key(),
                                                       ec_key().public_key()}));
    validator_ = std::make_unique<TokenValidator>(config(), source, clock, &registry);
  }

  ValidatorConfig config() const {
    ValidatorConfig c;
    c.allowed_issuers = {kIssuer};
    c.audience = "dive-api";
    return c;
  }

  TokenValidator& v() { return *validator_; }

  // Claims as the IdP issues them (issue 4 §1), valid now.
  Json claims() const {
    int64_t now = clock.unix_seconds();
    return Json{{"iss", kIssuer},
                {"sub", "6f1c3a52-1b7e-4d0e-9c1e-3f2b1a0d9e8f"},
                {"aud", {"dive-api", "dive-kas"}},
                {"azp", "dive-cli"},
                {"exp", now + 900},
                {"iat", now},
                {"auth_time", now - 5},
                {"jti", "jti-" + std::to_string(++serial_)},
                {"acr", "1"},
                {"amr", {"pwd", "otp"}},
                {"uniqueID", "testuser-usa-3"},
                {"clearance", "SECRET"},
                {"countryOfAffiliation", "USA"},
                {"acpCOI", {"NATO"}},
                {"roles", {"user"}},
                {"preferred_username", "testuser-usa-3"}};
  }
  std::string token(const SigningKey& key, const Json& c) const { return sign_claims(c, key); }
  std::string token(const SigningKey& key) const { return token(key, claims()); }

  void expect_rejected(const std::string& t, RejectReason want) {
    auto r = v().validate(t);
    EXPECT_FALSE(r.ok()) << "accepted a token that should fail with " << to_string(want);
    if (!r.ok()) {
      EXPECT_EQ(r.reason(), want) << to_string(r.reason()) << ": " << r.message();
    }
  }

  // The DER ECDSA-Sig-Value of a raw JOSE ES256 signature.
  static std::string der_ecdsa(std::string_view raw) {
    identity::ossl::EcdsaSig sig(ECDSA_SIG_new());
    identity::ossl::Bn r(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr));
    identity::ossl::Bn s(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
    ECDSA_SIG_set0(sig.get(), r.release(), s.release());
    unsigned char* out = nullptr;
    int len = i2d_ECDSA_SIG(sig.get(), &out);
    identity::ossl::OsslBytes der(out);
    return std::string(reinterpret_cast<char*>(der.get()), static_cast<size_t>(len));
  }

  FakeClock clock;
  FakeJwksSource source;
  metrics::Registry registry;

 private:
  std::unique_ptr<TokenValidator> validator_;
  mutable int serial_ = 0;
};

}  // namespace dive::identity::testing
