// TokenValidator: the VerifiedToken it returns, the validated-token cache, the allow-list at run time,
// metrics, and concurrent use.
#include "identity/token_validator.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <limits>
#include <set>
#include <thread>

#include "validator_fixture.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::testing;
using namespace std::chrono_literals;

TEST_F(ValidatorTest, VerifiedTokenCarriesTheClaims) {
  Json c = claims();
  std::string t = token(rsa_key(), c);
  auto r = v().validate(t);
  ASSERT_TRUE(r) << r.message();
  const VerifiedToken& vt = r.token();
  EXPECT_EQ(vt.raw_hash, sha256_hex(t));
  EXPECT_EQ(vt.issuer, kIssuer);
  EXPECT_EQ(vt.subject, c["sub"]);
  EXPECT_EQ(vt.jti, c["jti"]);
  EXPECT_EQ(vt.kid, "rsa-1");
  EXPECT_EQ(vt.alg, "RS256");
  EXPECT_EQ(vt.exp, c["exp"].get<int64_t>());
  EXPECT_EQ(vt.iat, c["iat"].get<int64_t>());
  EXPECT_EQ(vt.auth_time, c["auth_time"].get<int64_t>());
  EXPECT_EQ(vt.nbf, 0);
  EXPECT_EQ(vt.acr, "1");
  EXPECT_EQ(vt.amr, (std::vector<std::string>{"pwd", "otp"}));
  EXPECT_EQ(vt.audience, (std::vector<std::string>{"dive-api", "dive-kas"}));
  EXPECT_EQ(vt.azp, "dive-cli");
  EXPECT_EQ(vt.claim_string("uniqueID"), "testuser-usa-3");
  EXPECT_EQ(vt.claim_string("roles"), "");
  EXPECT_EQ(vt.claims["acpCOI"], Json({"NATO"}));
  EXPECT_FALSE(r.cached());
}

TEST_F(ValidatorTest, AudienceAsStringAndKasAudience) {
  ValidatorConfig c = config();
  c.audience = "dive-kas";
  TokenValidator kas(c, source, clock);
  EXPECT_TRUE(kas.validate(token(rsa_key())));
  Json cl = claims();
  cl["aud"] = "dive-api";
  EXPECT_EQ(kas.validate(token(rsa_key(), cl)).reason(), RejectReason::AudienceMismatch);
  EXPECT_THROW(TokenValidator(ValidatorConfig{}, source, clock), std::invalid_argument);
}

TEST_F(ValidatorTest, RequiredTokenTypeKeepsIdTokensOut) {
  ValidatorConfig c = config();
  c.required_token_type = "Bearer";
  TokenValidator bearer_only(c, source, clock);
  Json cl = claims();
  EXPECT_EQ(bearer_only.validate(token(rsa_key(), cl)).reason(), RejectReason::InvalidClaim);  // no typ
  cl["typ"] = "ID";
  EXPECT_EQ(bearer_only.validate(token(rsa_key(), cl)).reason(), RejectReason::InvalidClaim);
  cl["typ"] = "Bearer";
  EXPECT_TRUE(bearer_only.validate(token(rsa_key(), cl)));
  cl["typ"] = "ID";
  EXPECT_TRUE(v().validate(token(rsa_key(), cl)));  // not configured: not checked
}

TEST_F(ValidatorTest, TokensLivingLongerThanRevocationCoversAreRefused) {
  ValidatorConfig c = config();
  c.max_lifetime = 1200s;
  TokenValidator bounded(c, source, clock);
  Json cl = claims();
  const int64_t iat = cl["iat"];
  cl["exp"] = iat + 1200;
  EXPECT_TRUE(bounded.validate(token(rsa_key(), cl))) << "exactly the bound";
  cl["exp"] = iat + 1201;
  auto r = bounded.validate(token(rsa_key(), cl));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.reason(), RejectReason::InvalidClaim);
  EXPECT_NE(r.message().find("lifetime"), std::string::npos) << r.message();
  cl["iat"] = iat - 3600;  // issued an hour ago, still unexpired: a long-lived token, refused too
  cl["exp"] = iat + 60;
  EXPECT_EQ(bounded.validate(token(rsa_key(), cl)).reason(), RejectReason::InvalidClaim);
  cl["iat"] = std::numeric_limits<int64_t>::min();  // no overflow in exp - iat
  EXPECT_EQ(bounded.validate(token(rsa_key(), cl)).reason(), RejectReason::InvalidClaim);
  cl["iat"] = iat;
  cl["exp"] = iat - 1;  // exp before iat (and so expired already): refused either way
  EXPECT_FALSE(bounded.validate(token(rsa_key(), cl)));
  // Unbounded (the default): the same long-lived token passes.
  cl["iat"] = iat - 3600;
  cl["exp"] = iat + 60;
  EXPECT_TRUE(v().validate(token(rsa_key(), cl)));
}

TEST_F(ValidatorTest, SameTokenIsServedFromTheCache) {
  std::string t = token(rsa_key());
  auto first = v().validate(t);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first.cached());
  auto second = v().validate(t);
  ASSERT_TRUE(second);
  EXPECT_TRUE(second.cached());
  EXPECT_EQ(second.token_ptr(), first.token_ptr());  // shared, not copied
  EXPECT_EQ(v().cache_size(), 1u);
}

TEST_F(ValidatorTest, TokenSharingThe16CharPrefixIsNotServedFromTheCache) {
  // The system we replace keyed its cache on token.substr(0, 16): every RS256 token starts the same.
  std::string a = token(rsa_key());
  ASSERT_TRUE(v().validate(a));
  Json other = claims();
  other["sub"] = "another-user";
  std::string b = token(rsa_key(), other);
  ASSERT_EQ(a.substr(0, 16), b.substr(0, 16));
  auto rb = v().validate(b);
  ASSERT_TRUE(rb);
  EXPECT_FALSE(rb.cached());
  EXPECT_EQ(rb.token().subject, "another-user");
  // A forgery with the same prefix (and the same header and signature as the cached token) is verified,
  // not served from the cache.
  auto pa = split(a);
  Json forged = Json::parse(*base64url_decode(pa.payload));
  forged["clearance"] = "TOP_SECRET";
  std::string f = pa.header + "." + b64(forged.dump()) + "." + pa.signature;
  ASSERT_EQ(f.substr(0, 16), a.substr(0, 16));
  expect_rejected(f, RejectReason::BadSignature);
  // A token that differs from the cached one only in its last character is not served either.
  std::string last = a;
  last.back() = last.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(v().validate(last));
}

TEST_F(ValidatorTest, CachedEntryExpiresWithTheToken) {
  Json c = claims();
  c["exp"] = clock.unix_seconds() + 60;
  std::string t = token(rsa_key(), c);
  ASSERT_TRUE(v().validate(t));
  clock.advance(60s + 30s);  // exp + skew: still valid
  auto r = v().validate(t);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r.cached());
  clock.advance(1s);
  expect_rejected(t, RejectReason::Expired);
  EXPECT_EQ(v().cache_size(), 0u);
  expect_rejected(t, RejectReason::Expired);  // also on the full path
}

TEST_F(ValidatorTest, RejectedTokensAreNotCached) {
  Json c = claims();
  c["aud"] = "other";
  std::string t = token(rsa_key(), c);
  EXPECT_FALSE(v().validate(t));
  EXPECT_EQ(v().cache_size(), 0u);
  EXPECT_FALSE(v().validate(t));
}

TEST_F(ValidatorTest, ChangingTheAllowListDropsCachedTokensOfRemovedIssuers) {
  std::string t = token(rsa_key());
  ASSERT_TRUE(v().validate(t));
  ASSERT_TRUE(v().validate(t).cached());
  v().set_allowed_issuers({kIssuerB});
  EXPECT_EQ(v().cache_size(), 0u);
  expect_rejected(t, RejectReason::UntrustedIssuer);
  v().set_allowed_issuers({kIssuer, kIssuerB});
  EXPECT_EQ(v().allowed_issuers().size(), 2u);
  EXPECT_TRUE(v().validate(t));
}

TEST_F(ValidatorTest, PrefetchLoadsEveryAllowedIssuer) {
  EXPECT_TRUE(v().prefetch());
  EXPECT_EQ(source.count(kIssuer), 1u);
  EXPECT_TRUE(v().validate(token(ec_key())));
  EXPECT_EQ(source.count(kIssuer), 1u);
  v().set_allowed_issuers({kIssuer, "https://unreachable.example"});
  EXPECT_FALSE(v().prefetch());
}

TEST_F(ValidatorTest, MetricsCountResultsAndReasons) {
  std::string t = token(rsa_key());
  v().validate(t);
  v().validate(t);
  v().validate("a.b");
  Json c = claims();
  c["iss"] = "https://evil.example";
  v().validate(token(rsa_key(), c));
  std::string text = registry.expose();
  EXPECT_NE(text.find("dive_v3_token_validations_total{result=\"valid\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("dive_v3_token_validations_total{result=\"cached\"} 1"), std::string::npos);
  EXPECT_NE(text.find("dive_v3_token_validations_total{result=\"rejected\"} 2"), std::string::npos);
  EXPECT_NE(text.find("dive_v3_invalid_jwt_total{reason=\"malformed\"} 1"), std::string::npos);
  EXPECT_NE(text.find("dive_v3_invalid_jwt_total{reason=\"untrusted_issuer\"} 1"), std::string::npos);
  EXPECT_NE(text.find("dive_v3_invalid_jwt_total{reason=\"bad_signature\"} 0"),
            std::string::npos);  // pre-created
}

TEST(RejectReasonNames, AreDistinctMetricLabels) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kRejectReasonCount; ++i) {
    auto n = to_string(static_cast<RejectReason>(i));
    EXPECT_NE(n, "unknown");
    for (char ch : n) EXPECT_TRUE((ch >= 'a' && ch <= 'z') || ch == '_') << n;
    names.insert(n);
  }
  EXPECT_EQ(names.size(), kRejectReasonCount);
}

TEST_F(ValidatorTest, ConcurrentValidationIsConsistent) {
  std::vector<std::string> good, bad;
  for (int i = 0; i < 8; ++i) good.push_back(token(i % 2 ? rsa_key() : ec_key()));
  for (int i = 0; i < 4; ++i) {
    auto p = split(good[i]);
    bad.push_back(p.header + "." + p.payload + "." + split(good[i + 4]).signature);
  }
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (!v().validate(good[(i + t) % good.size()])) ++errors;
        if (v().validate(bad[(i + t) % bad.size()])) ++errors;
        if (i == 100 && t == 0) v().clear_cache();
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(source.count(kIssuer), 1u);  // concurrent first use fetched once
}
