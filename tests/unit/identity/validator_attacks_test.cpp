// TokenValidator against the known JWT attacks (issue 4 §2). Each forged token below would be accepted
// by a validator that skipped the check under test: forged tokens are signed by a key the validator
// trusts wherever that is possible, so only the check in question stands between them and acceptance.
#include <gtest/gtest.h>

#include "common/encoding.hpp"
#include "identity/jws.hpp"
#include "identity/token_validator.hpp"
#include "identity_test_util.hpp"
#include "validator_fixture.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::testing;
using namespace std::chrono_literals;

// HMAC-SHA256: dive::hmac_sha256 (common/encoding.hpp).

TEST_F(ValidatorTest, AcceptsValidTokensOfEachAlgorithm) {
  for (const SigningKey* k : {&rsa_key(), &ps_key(), &ec_key()}) {
    auto r = v().validate(token(*k));
    ASSERT_TRUE(r) << to_string(r.reason()) << ": " << r.message();
    EXPECT_EQ(r.token().alg, std::string(to_string(k->alg())));
    EXPECT_EQ(r.token().kid, k->kid());
  }
}

TEST_F(ValidatorTest, AlgNoneWithoutSignatureIsRejected) {
  for (const char* none : {"none", "None", "NONE", "nOnE"}) {
    std::string t = unsigned_part(Json{{"alg", none}, {"typ", "JWT"}}.dump(), claims().dump()) + ".";
    expect_rejected(t, RejectReason::AlgorithmNotAllowed);
    std::string t2 = unsigned_part(Json{{"alg", none}, {"kid", "rsa-1"}}.dump(), claims().dump()) + ".";
    expect_rejected(t2, RejectReason::AlgorithmNotAllowed);
  }
}

TEST_F(ValidatorTest, AlgNoneWithAValidSignaturePartIsRejected) {
  // The signature part is a real RS256 signature by the trusted key over this very header and payload.
  std::string input = unsigned_part(Json{{"alg", "none"}, {"kid", "rsa-1"}}.dump(), claims().dump());
  expect_rejected(input + "." + b64(rsa_key().sign(input)), RejectReason::AlgorithmNotAllowed);
}

TEST_F(ValidatorTest, MissingOrNonStringAlgIsRejected) {
  expect_rejected(forge({{"kid", "rsa-1"}}, claims(), rsa_key()), RejectReason::AlgorithmNotAllowed);
  expect_rejected(forge({{"alg", 256}, {"kid", "rsa-1"}}, claims(), rsa_key()),
                  RejectReason::AlgorithmNotAllowed);
  expect_rejected(forge({{"alg", {"RS256"}}, {"kid", "rsa-1"}}, claims(), rsa_key()),
                  RejectReason::AlgorithmNotAllowed);
}

TEST_F(ValidatorTest, Hs256SignedWithThePublicKeyPemIsRejected) {
  // The classic key-confusion attack: HMAC keyed with the public key a naive verifier would hand to its
  // "verify(token, key)" call.
  for (const char* alg : {"HS256", "HS384", "HS512"}) {
    std::string input =
        unsigned_part(Json{{"alg", alg}, {"kid", "rsa-1"}, {"typ", "JWT"}}.dump(), claims().dump());
    std::string pem = rsa_key().public_key().to_pem();
    expect_rejected(input + "." + b64(hmac_sha256(pem, input)), RejectReason::AlgorithmNotAllowed);
  }
}

TEST_F(ValidatorTest, Hs256SignedWithTheJwkIsRejected) {
  Json jwk = to_jwk(rsa_key().public_key());
  std::string input = unsigned_part(Json{{"alg", "HS256"}, {"kid", "rsa-1"}}.dump(), claims().dump());
  std::string n = *base64url_decode(jwk["n"].get<std::string>());
  std::string e = *base64url_decode(jwk["e"].get<std::string>());
  for (const std::string& secret : {n, n + e, jwk.dump(), jwk["n"].get<std::string>()})
    expect_rejected(input + "." + b64(hmac_sha256(secret, input)), RejectReason::AlgorithmNotAllowed);
  // Even with a symmetric key under that kid in the issuer's JWKS (which parse_jwks refuses anyway).
  source.set(kIssuer, Json{{"keys", {{{"kty", "oct"}, {"kid", "hs"}, {"k", b64("secret")}}}}});
  std::string in2 = unsigned_part(Json{{"alg", "HS256"}, {"kid", "hs"}}.dump(), claims().dump());
  expect_rejected(in2 + "." + b64(hmac_sha256("secret", in2)), RejectReason::AlgorithmNotAllowed);
}

TEST_F(ValidatorTest, AlgorithmOutsideTheConfiguredAllowListIsRejected) {
  ValidatorConfig c = config();
  c.allowed_algs = {Alg::RS256};
  TokenValidator only_rs(c, source, clock);
  EXPECT_TRUE(only_rs.validate(token(rsa_key())));
  auto r = only_rs.validate(token(ps_key()));
  EXPECT_EQ(r.reason(), RejectReason::AlgorithmNotAllowed);
  EXPECT_EQ(only_rs.validate(token(ec_key())).reason(), RejectReason::AlgorithmNotAllowed);
}

TEST_F(ValidatorTest, UnknownKidRefreshesOnceThenRejects) {
  ASSERT_TRUE(v().validate(token(rsa_key())));
  EXPECT_EQ(source.count(kIssuer), 1u);  // first use fetched the set
  std::string t = token(attacker_key().with_kid("rotated-2"));
  expect_rejected(t, RejectReason::UnknownKid);
  EXPECT_EQ(source.count(kIssuer), 1u);  // the set is less than 1 s old: no refresh yet
  clock.advance(10s);
  expect_rejected(t, RejectReason::UnknownKid);
  EXPECT_EQ(source.count(kIssuer), 2u);  // one refresh for the unknown kid
  expect_rejected(t, RejectReason::UnknownKid);
  expect_rejected(token(attacker_key().with_kid("other-3")), RejectReason::UnknownKid);
  EXPECT_EQ(source.count(kIssuer), 2u);
  clock.advance(1s);
  expect_rejected(t, RejectReason::UnknownKid);
  EXPECT_EQ(source.count(kIssuer), 3u);  // the one early refresh of this interval (1 s after the last)
  clock.advance(8s);
  expect_rejected(t, RejectReason::UnknownKid);
  expect_rejected(token(attacker_key().with_kid("other-4")), RejectReason::UnknownKid);
  EXPECT_EQ(source.count(kIssuer), 3u);  // no other fetch within 10 s, whatever the kid
  clock.advance(2s);
  expect_rejected(t, RejectReason::UnknownKid);
  EXPECT_EQ(source.count(kIssuer), 4u);         // allowed again 10 s after the last attempt
  EXPECT_TRUE(v().validate(token(rsa_key())));  // known kids never fetch
  EXPECT_EQ(source.count(kIssuer), 4u);
}

TEST_F(ValidatorTest, AKeyRotatedMomentsAfterAFetchIsPickedUpWithinASecond) {
  ASSERT_TRUE(v().validate(token(rsa_key())));  // the set fetched now, before the rotation
  auto next = issuer_b_key().with_kid("rsa-2");
  source.set(kIssuer, to_jwks(std::vector<VerifyKey>{rsa_key().public_key(), next.public_key()}));
  clock.advance(1s);
  auto r = v().validate(token(next));
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(source.count(kIssuer), 2u);
}

TEST_F(ValidatorTest, RotatedKeyIsPickedUpByTheUnknownKidRefresh) {
  ASSERT_TRUE(v().validate(token(rsa_key())));
  auto next = issuer_b_key().with_kid("rsa-2");
  source.set(kIssuer, to_jwks(std::vector<VerifyKey>{rsa_key().public_key(), next.public_key()}));
  clock.advance(10s);
  auto r = v().validate(token(next));
  ASSERT_TRUE(r) << r.message();
  EXPECT_EQ(r.token().kid, "rsa-2");
  EXPECT_EQ(source.count(kIssuer), 2u);
}

TEST_F(ValidatorTest, KeyRemovedFromTheJwksStopsVerifyingAfterRefresh) {
  ASSERT_TRUE(v().validate(token(ec_key())));
  source.set(kIssuer, to_jwks(std::vector<VerifyKey>{rsa_key().public_key()}));
  clock.advance(10s);
  EXPECT_EQ(v().validate(token(attacker_key().with_kid("x"))).reason(), RejectReason::UnknownKid);
  v().clear_cache();
  expect_rejected(token(ec_key()), RejectReason::UnknownKid);
}

TEST_F(ValidatorTest, KeyBearingHeadersAreIgnoredAndNeverFetched) {
  const std::string evil = "https://attacker.example/jwks.json";
  Json attacker_jwk = to_jwk(attacker_key().public_key());
  std::vector<Json> headers = {
      {{"alg", "RS256"}, {"jku", evil}},
      {{"alg", "RS256"}, {"x5u", evil}},
      {{"alg", "RS256"}, {"jwk", attacker_jwk}},
      {{"alg", "RS256"}, {"x5c", {"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"}}},
      {{"alg", "RS256"}, {"jku", evil}, {"x5u", evil}, {"jwk", attacker_jwk}, {"x5t", "abc"}},
  };
  for (Json h : headers) {
    // Signed by the attacker's key, kid naming the attacker's key: unknown to the issuer's set.
    h["kid"] = "attacker";
    expect_rejected(forge(h, claims(), attacker_key()), RejectReason::UnknownKid);
    // Signed by the attacker's key, kid naming the trusted key: the trusted key does not verify it.
    h["kid"] = "rsa-1";
    expect_rejected(forge(h, claims(), attacker_key()), RejectReason::BadSignature);
    // No kid at all (a validator that fell back to the embedded key would take it).
    h.erase("kid");
    expect_rejected(forge(h, claims(), attacker_key()), RejectReason::MissingKid);
  }
  // ES256 by the attacker's EC key, carrying that key as an embedded jwk and naming the trusted EC kid.
  Json ec_h = {{"alg", "ES256"}, {"kid", "ec-1"}, {"jwk", to_jwk(attacker_ec_key().public_key())}};
  expect_rejected(forge(ec_h, claims(), attacker_ec_key()), RejectReason::BadSignature);
  for (const auto& f : source.fetched()) EXPECT_EQ(f, kIssuer);
  // The same header on a token signed by the trusted key does no harm and no fetch either.
  Json h = {{"alg", "RS256"}, {"kid", "rsa-1"}, {"jku", evil}, {"jwk", attacker_jwk}};
  EXPECT_TRUE(v().validate(forge(h, claims(), rsa_key())));
  for (const auto& f : source.fetched()) EXPECT_EQ(f, kIssuer);
}

TEST_F(ValidatorTest, TamperedPayloadIsRejected) {
  std::string t = token(rsa_key());
  auto p = split(t);
  Json c = claims();
  c["sub"] = "admin-usa";
  c["roles"] = {"super_admin"};
  expect_rejected(p.header + "." + b64(c.dump()) + "." + p.signature, RejectReason::BadSignature);
  // One flipped bit inside the payload.
  std::string payload = *base64url_decode(p.payload);
  payload[payload.size() / 2] ^= 0x01;
  expect_rejected(p.header + "." + b64(payload) + "." + p.signature, RejectReason::BadSignature);
}

TEST_F(ValidatorTest, TamperedSignatureIsRejected) {
  for (const SigningKey* k : {&rsa_key(), &ps_key(), &ec_key()}) {
    auto p = split(token(*k));
    std::string sig = *base64url_decode(p.signature);
    for (size_t pos : {size_t{0}, sig.size() / 2, sig.size() - 1}) {
      std::string s = sig;
      s[pos] ^= 0x80;
      expect_rejected(p.header + "." + p.payload + "." + b64(s), RejectReason::BadSignature);
    }
    expect_rejected(p.header + "." + p.payload + ".", RejectReason::BadSignature);  // stripped
    expect_rejected(p.header + "." + p.payload + "." + b64(sig.substr(0, sig.size() - 1)),
                    RejectReason::BadSignature);
    expect_rejected(p.header + "." + p.payload + "." + b64(sig + "x"), RejectReason::BadSignature);
  }
}

TEST_F(ValidatorTest, SignatureSplicedFromAnotherValidTokenIsRejected) {
  Json other = claims();
  other["sub"] = "someone-else";
  std::string a = token(rsa_key()), b = token(rsa_key(), other);
  ASSERT_TRUE(v().validate(a));
  ASSERT_TRUE(v().validate(b));
  auto pa = split(a), pb = split(b);
  expect_rejected(pa.header + "." + pa.payload + "." + pb.signature, RejectReason::BadSignature);
  expect_rejected(pb.header + "." + pb.payload + "." + pa.signature, RejectReason::BadSignature);
}

TEST_F(ValidatorTest, ExpiredBeyondSkewIsRejectedWithinSkewAccepted) {
  int64_t now = clock.unix_seconds();
  Json c = claims();
  c["iat"] = now - 1000;
  c["exp"] = now - 31;
  expect_rejected(token(rsa_key(), c), RejectReason::Expired);
  c["exp"] = now - 30;
  EXPECT_TRUE(v().validate(token(rsa_key(), c)));
  c["exp"] = now - 29.5;  // NumericDate may be fractional
  EXPECT_TRUE(v().validate(token(rsa_key(), c)));
}

TEST_F(ValidatorTest, NotYetValidBeyondSkewIsRejected) {
  int64_t now = clock.unix_seconds();
  Json c = claims();
  c["nbf"] = now + 31;
  expect_rejected(token(rsa_key(), c), RejectReason::NotYetValid);
  c["nbf"] = now + 30;
  EXPECT_TRUE(v().validate(token(rsa_key(), c)));
  c = claims();
  c["iat"] = now + 31;
  expect_rejected(token(rsa_key(), c), RejectReason::NotYetValid);
  c["iat"] = now + 29;
  EXPECT_TRUE(v().validate(token(rsa_key(), c)));
}

TEST_F(ValidatorTest, WrongIssuerIsRejectedWithoutFetching) {
  for (std::string iss :
       {std::string(kIssuer) + "/", std::string("HTTPS://localhost:8443/realms/dive-v3-broker-usa"),
        std::string("https://localhost:8443/realms/dive-v3-broker-usa "),
        std::string("https://localhost:8443/realms/dive-v3-broker-us"),
        std::string("https://evil.example/realms/dive-v3-broker-usa")}) {
    Json c = claims();
    c["iss"] = iss;
    expect_rejected(token(rsa_key(), c), RejectReason::UntrustedIssuer);
  }
  Json c = claims();
  c["iss"] = 42;
  expect_rejected(token(rsa_key(), c), RejectReason::InvalidClaim);
  c.erase("iss");
  expect_rejected(token(rsa_key(), c), RejectReason::MissingClaim);
  EXPECT_TRUE(source.fetched().empty());  // nothing was fetched for any of them
}

TEST_F(ValidatorTest, IssuerNotOnAllowListIsRejectedEvenWithAValidSignature) {
  // Signed by the trusted issuer's real key (a valid signature from a known key), but claiming another,
  // untrusted issuer whose JWKS the validator would otherwise go and fetch.
  source.set("https://evil.example", to_jwks(std::vector<VerifyKey>{rsa_key().public_key()}));
  Json c = claims();
  c["iss"] = "https://evil.example";
  auto r = v().validate(token(rsa_key(), c));
  EXPECT_EQ(r.reason(), RejectReason::UntrustedIssuer);
  EXPECT_EQ(source.count("https://evil.example"), 0u);
}

TEST_F(ValidatorTest, KeysOfOneTrustedIssuerDoNotVerifyAnotherIssuersTokens) {
  ValidatorConfig c = config();
  c.allowed_issuers = {kIssuer, kIssuerB};
  TokenValidator both(c, source, clock);
  source.set(kIssuerB, to_jwks(std::vector<VerifyKey>{issuer_b_key().public_key()}));
  Json cl = claims();
  cl["iss"] = kIssuerB;
  EXPECT_TRUE(both.validate(token(issuer_b_key(), cl)));
  // iss names issuer B, but the token is signed by issuer A's key (kid rsa-1): looked up in B's set only.
  EXPECT_EQ(both.validate(token(rsa_key(), cl)).reason(), RejectReason::UnknownKid);
  // And B's key cannot mint tokens for A.
  cl["iss"] = kIssuer;
  EXPECT_EQ(both.validate(token(issuer_b_key(), cl)).reason(), RejectReason::UnknownKid);
}

TEST_F(ValidatorTest, WrongOrMissingAudienceIsRejected) {
  Json c = claims();
  c["aud"] = "dive-kas";
  expect_rejected(token(rsa_key(), c), RejectReason::AudienceMismatch);
  c["aud"] = {"dive-web", "account"};
  expect_rejected(token(rsa_key(), c), RejectReason::AudienceMismatch);
  c["aud"] = Json::array();
  expect_rejected(token(rsa_key(), c), RejectReason::AudienceMismatch);
  c["aud"] = "DIVE-API";
  expect_rejected(token(rsa_key(), c), RejectReason::AudienceMismatch);
  c.erase("aud");
  expect_rejected(token(rsa_key(), c), RejectReason::AudienceMismatch);
  c["aud"] = 7;
  expect_rejected(token(rsa_key(), c), RejectReason::InvalidClaim);
  c["aud"] = {"dive-api", 7};
  expect_rejected(token(rsa_key(), c), RejectReason::InvalidClaim);
  c["aud"] = "dive-api";
  EXPECT_TRUE(v().validate(token(rsa_key(), c)));
}

TEST_F(ValidatorTest, OversizedTokenIsRejectedBeforeAnyWork) {
  Json c = claims();
  c["padding"] = std::string(16 * 1024, 'x');
  std::string t = token(rsa_key(), c);
  ASSERT_GT(t.size(), 16u * 1024);
  expect_rejected(t, RejectReason::TooLarge);
  expect_rejected(std::string(16 * 1024 + 1, 'a'), RejectReason::TooLarge);
  EXPECT_TRUE(source.fetched().empty());
  // Just under the limit is fine.
  c["padding"] = std::string(11000, 'x');
  std::string ok = token(rsa_key(), c);
  ASSERT_LE(ok.size(), 16u * 1024);
  EXPECT_TRUE(v().validate(ok));
}

TEST_F(ValidatorTest, MalformedTokensAreRejected) {
  auto p = split(token(rsa_key()));
  const std::vector<std::string> bad = {
      "",
      "Bearer",
      p.header + "." + p.payload,                                          // 2 parts
      p.header + "." + p.payload + "." + p.signature + "." + p.signature,  // 4 parts
      p.header + "." + p.payload + "." + p.signature + ".a.b",             // 5 parts (JWE)
      p.header + "." + p.payload + "." + p.signature + "=",                // padding
      p.header + "." + p.payload + "." + p.signature + "%",                // bad base64url
      "%%%." + p.payload + "." + p.signature,
      p.header + "." + p.payload.substr(0, p.payload.size() - 1) + "*." + p.signature,
      b64("{\"alg\":\"RS256\",") + "." + p.payload + "." + p.signature,  // header not JSON
      b64("\"RS256\"") + "." + p.payload + "." + p.signature,            // header not an object
      " " + p.header + "." + p.payload + "." + p.signature,              // whitespace
  };
  for (const auto& t : bad) {
    auto r = v().validate(t);
    EXPECT_FALSE(r) << t;
    EXPECT_EQ(r.reason(), RejectReason::Malformed) << t << ": " << r.message();
  }
}

TEST_F(ValidatorTest, ClaimsThatAreNotAnObjectAreRejected) {
  // Properly signed by the trusted key: only the claims-shape check rejects them.
  Json h = {{"alg", "RS256"}, {"kid", "rsa-1"}};
  for (const std::string& payload : {std::string("[1,2,3]"), std::string("\"sub\""), std::string("null"),
                                     std::string("42"), std::string("not json"), std::string("{\"sub\":")}) {
    std::string input = unsigned_part(h.dump(), payload);
    expect_rejected(input + "." + b64(rsa_key().sign(input)), RejectReason::Malformed);
  }
}

TEST_F(ValidatorTest, DuplicateMembersAreRejectedEvenWhenSigned) {
  // Two parsers could disagree on which value counts; both tokens carry a valid signature.
  std::string claims_text = claims().dump();
  std::string dup_claims = claims_text.substr(0, claims_text.size() - 1) + R"(,"sub":"admin-usa"})";
  std::string input = unsigned_part(R"({"alg":"RS256","kid":"rsa-1"})", dup_claims);
  expect_rejected(input + "." + b64(rsa_key().sign(input)), RejectReason::Malformed);
  std::string input2 = unsigned_part(R"({"alg":"RS256","kid":"rsa-1","kid":"ec-1"})", claims_text);
  expect_rejected(input2 + "." + b64(rsa_key().sign(input2)), RejectReason::Malformed);
  std::string input3 = unsigned_part(R"({"alg":"none","kid":"rsa-1","alg":"RS256"})", claims_text);
  expect_rejected(input3 + "." + b64(rsa_key().sign(input3)), RejectReason::Malformed);
}

TEST_F(ValidatorTest, Es256WithDerSignatureIsRejected) {
  auto p = split(token(ec_key()));
  std::string raw = *base64url_decode(p.signature);
  ASSERT_EQ(raw.size(), 64u);
  std::string der = der_ecdsa(raw);  // the same (r, s), DER-encoded as OpenSSL emits it
  expect_rejected(p.header + "." + p.payload + "." + b64(der), RejectReason::BadSignature);
  EXPECT_TRUE(v().validate(p.header + "." + p.payload + "." + p.signature));
}

TEST_F(ValidatorTest, AlgorithmThatDoesNotFitTheKeyIsRejected) {
  // RS256 header naming the EC key: the signature is a real RS256 one (by an RSA key).
  expect_rejected(forge({{"alg", "RS256"}, {"kid", "ec-1"}}, claims(), rsa_key()),
                  RejectReason::KeyAlgorithmMismatch);
  // ES256 header naming the RSA key.
  expect_rejected(forge({{"alg", "ES256"}, {"kid", "rsa-1"}}, claims(), ec_key()),
                  RejectReason::KeyAlgorithmMismatch);
  // PS256 header naming the RSA key published with "alg":"RS256", signed with PSS by that very key.
  auto pss_by_rsa1 = SigningKey::from_pem(rsa_key().to_pem(), Alg::PS256, "rsa-1");
  expect_rejected(forge({{"alg", "PS256"}, {"kid", "rsa-1"}}, claims(), pss_by_rsa1),
                  RejectReason::KeyAlgorithmMismatch);
}

TEST_F(ValidatorTest, CriticalHeaderWithUnknownExtensionIsRejected) {
  Json h = {{"alg", "RS256"}, {"kid", "rsa-1"}, {"crit", {"exp-ext"}}, {"exp-ext", true}};
  expect_rejected(forge(h, claims(), rsa_key()), RejectReason::UnsupportedCritical);
  Json b64h = {{"alg", "RS256"}, {"kid", "rsa-1"}, {"crit", {"b64"}}, {"b64", false}};
  expect_rejected(forge(b64h, claims(), rsa_key()), RejectReason::UnsupportedCritical);
  Json empty = {{"alg", "RS256"}, {"kid", "rsa-1"}, {"crit", Json::array()}};
  expect_rejected(forge(empty, claims(), rsa_key()), RejectReason::UnsupportedCritical);
}

TEST_F(ValidatorTest, MissingKidIsRejected) {
  expect_rejected(forge({{"alg", "RS256"}}, claims(), rsa_key()), RejectReason::MissingKid);
  expect_rejected(forge({{"alg", "RS256"}, {"kid", ""}}, claims(), rsa_key()), RejectReason::MissingKid);
  expect_rejected(forge({{"alg", "RS256"}, {"kid", 1}}, claims(), rsa_key()), RejectReason::MissingKid);
}

TEST_F(ValidatorTest, RequiredClaimsAndClaimTypes) {
  for (const char* name : {"exp", "iat", "sub"}) {
    Json c = claims();
    c.erase(name);
    expect_rejected(token(rsa_key(), c), RejectReason::MissingClaim);
  }
  auto with = [&](const char* name, Json value) {
    Json c = claims();
    c[name] = std::move(value);
    return token(rsa_key(), c);
  };
  expect_rejected(with("exp", "9999999999"), RejectReason::InvalidClaim);
  expect_rejected(with("exp", true), RejectReason::InvalidClaim);
  expect_rejected(with("iat", nullptr), RejectReason::InvalidClaim);
  expect_rejected(with("nbf", "0"), RejectReason::InvalidClaim);
  expect_rejected(with("sub", ""), RejectReason::InvalidClaim);
  expect_rejected(with("sub", 12), RejectReason::InvalidClaim);
  expect_rejected(with("jti", 12), RejectReason::InvalidClaim);
  expect_rejected(with("acr", 1), RejectReason::InvalidClaim);
  expect_rejected(with("amr", "pwd"), RejectReason::InvalidClaim);
  expect_rejected(with("amr", {"pwd", 1}), RejectReason::InvalidClaim);
  expect_rejected(with("auth_time", "x"), RejectReason::InvalidClaim);
  ValidatorConfig c = config();
  c.extra_required_claims = {"jti"};
  TokenValidator need_jti(c, source, clock);
  Json no_jti = claims();
  no_jti.erase("jti");
  EXPECT_EQ(need_jti.validate(token(rsa_key(), no_jti)).reason(), RejectReason::MissingClaim);
  EXPECT_TRUE(need_jti.validate(token(rsa_key())));
}

TEST_F(ValidatorTest, JwksOutageRejectsAndRecovers) {
  source.set_failing(true);
  expect_rejected(token(rsa_key()), RejectReason::JwksUnavailable);
  source.set_failing(false);
  expect_rejected(token(rsa_key()), RejectReason::JwksUnavailable);  // failed attempts are rate limited too
  EXPECT_EQ(source.count(kIssuer), 1u);
  clock.advance(10s);
  EXPECT_TRUE(v().validate(token(rsa_key())));
  // Once keys are held, an outage does not affect known kids.
  source.set_failing(true);
  clock.advance(10s);
  v().clear_cache();
  EXPECT_TRUE(v().validate(token(rsa_key())));
  EXPECT_EQ(v().validate(token(attacker_key().with_kid("new"))).reason(), RejectReason::JwksUnavailable);
}

TEST_F(ValidatorTest, RejectionMessagesNeverContainTheTokenOrItsSignature) {
  std::vector<std::string> tokens;
  auto p = split(token(rsa_key()));
  tokens.push_back(p.header + "." + p.payload + "." + p.signature + "x");
  tokens.push_back(p.header + "." + p.payload + ".AAAA" + p.signature.substr(4));
  Json c = claims();
  c["iss"] = "https://evil.example/\n\x1b[31mFAKE LOG LINE";
  tokens.push_back(token(rsa_key(), c));
  tokens.push_back(forge({{"alg", "RS256"}, {"kid", std::string(500, 'k') + "\r\nX"}}, claims(), rsa_key()));
  tokens.push_back(unsigned_part(Json{{"alg", "none"}}.dump(), claims().dump()) + ".");
  for (const auto& t : tokens) {
    auto r = v().validate(t);
    ASSERT_FALSE(r);
    auto tp = split(t);
    const auto& m = r.message();
    EXPECT_EQ(m.find(t), std::string::npos);
    if (tp.signature.size() > 8) {
      EXPECT_EQ(m.find(tp.signature.substr(0, 8)), std::string::npos) << m;
    }
    EXPECT_EQ(m.find(tp.payload.substr(0, 12)), std::string::npos) << m;
    for (char ch : m) EXPECT_TRUE(ch >= 0x20 && ch < 0x7f) << m;  // one printable line
    EXPECT_LT(m.size(), 300u);
  }
}
