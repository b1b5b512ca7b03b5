// JWK / JWKS: serialisation, round trip, RFC 7638 thumbprint, and what a JWK Set may not contain.
#include "identity/jwk.hpp"

#include <gtest/gtest.h>
#include <openssl/core_names.h>

#include "identity/ossl.hpp"
#include "identity_test_util.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::testing;

TEST(Jwk, RsaPublicKeyToJwk) {
  Json j = to_jwk(rsa_key().public_key());
  EXPECT_EQ(j["kty"], "RSA");
  EXPECT_EQ(j["kid"], "rsa-1");
  EXPECT_EQ(j["use"], "sig");
  EXPECT_EQ(j["alg"], "RS256");
  EXPECT_EQ(j["e"], "AQAB");
  auto n = base64url_decode(j["n"].get<std::string>());
  ASSERT_TRUE(n);
  EXPECT_EQ(n->size(), 256u);
  EXPECT_NE(static_cast<unsigned char>((*n)[0]), 0u);  // no leading zero octet (RFC 7518 §6.3.1.1)
  for (const char* m : {"d", "p", "q", "dp", "dq", "qi"}) EXPECT_FALSE(j.contains(m)) << m;
  EXPECT_EQ(to_jwk(ps_key().public_key())["alg"], "PS256");
}

TEST(Jwk, EcPublicKeyToJwk) {
  Json j = to_jwk(ec_key().public_key());
  EXPECT_EQ(j["kty"], "EC");
  EXPECT_EQ(j["crv"], "P-256");
  EXPECT_EQ(j["alg"], "ES256");
  EXPECT_EQ(base64url_decode(j["x"].get<std::string>())->size(), 32u);
  EXPECT_EQ(base64url_decode(j["y"].get<std::string>())->size(), 32u);
  EXPECT_FALSE(j.contains("d"));
}

TEST(Jwk, JwksRoundTripVerifiesSignatures) {
  std::vector<VerifyKey> keys{rsa_key().public_key(), ps_key().public_key(), ec_key().public_key()};
  Json jwks = to_jwks(keys);
  ASSERT_EQ(jwks["keys"].size(), 3u);
  auto parsed = parse_jwks(Json::parse(jwks.dump()));
  ASSERT_EQ(parsed.keys.size(), 3u);
  EXPECT_TRUE(parsed.skipped.empty());
  const SigningKey* signers[] = {&rsa_key(), &ps_key(), &ec_key()};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(parsed.keys[i].kid(), signers[i]->kid());
    EXPECT_EQ(parsed.keys[i].thumbprint(), signers[i]->public_key().thumbprint());
    EXPECT_EQ(parsed.keys[i].alg(), signers[i]->alg());
    EXPECT_TRUE(parsed.keys[i].verify(signers[i]->alg(), "abc", signers[i]->sign("abc")));
    EXPECT_EQ(to_jwk(parsed.keys[i]), to_jwk(keys[i]));
  }
}

// RFC 7638 §3.1 example.
TEST(Jwk, Rfc7638Thumbprint) {
  Json jwk = {
      {"kty", "RSA"},
      {"n",
       "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
       "BJECPebWKRXjBZCiF"
       "V4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgn"
       "Yb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIq"
       "bw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
      {"e", "AQAB"},
      {"alg", "RS256"},
      {"kid", "2011-04-29"}};
  auto key = parse_jwk(jwk);
  EXPECT_EQ(key.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
  EXPECT_EQ(key.kid(), "2011-04-29");
  jwk.erase("kid");
  EXPECT_EQ(parse_jwk(jwk).kid(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");  // default kid
}

TEST(Jwk, PrivateMembersAreRefusedAndPoisonTheWholeSet) {
  for (const char* m : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
    Json jwk = to_jwk(rsa_key().public_key());
    jwk[m] = "AQAB";
    EXPECT_THROW(parse_jwk(jwk), JwkError) << m;
    Json jwks = {{"keys", {to_jwk(ec_key().public_key()), jwk}}};
    EXPECT_THROW(parse_jwks(jwks), JwkError) << m;
  }
}

TEST(Jwk, UnsupportedKeysAreRefusedOrSkipped) {
  // An RSA modulus of 1024 bits (need not be a real key: the size check comes first).
  std::string n1024(128, '\xc3');
  n1024[127] = '\x01';
  Json weak = {{"kty", "RSA"}, {"kid", "weak"}, {"n", b64(n1024)}, {"e", "AQAB"}};
  EXPECT_THROW(parse_jwk(weak), JwkError);

  // A real P-384 key.
  identity::ossl::Pkey p384(EVP_EC_gen("P-384"));
  ASSERT_TRUE(p384);
  BIGNUM* x = nullptr;
  BIGNUM* y = nullptr;
  ASSERT_EQ(EVP_PKEY_get_bn_param(p384.get(), OSSL_PKEY_PARAM_EC_PUB_X, &x), 1);
  ASSERT_EQ(EVP_PKEY_get_bn_param(p384.get(), OSSL_PKEY_PARAM_EC_PUB_Y, &y), 1);
  identity::ossl::Bn bx(x), by(y);
  Json p384_jwk = {{"kty", "EC"},
                   {"kid", "p384"},
                   {"crv", "P-384"},
                   {"x", b64(identity::ossl::bn_bytes(bx.get(), 48))},
                   {"y", b64(identity::ossl::bn_bytes(by.get(), 48))}};
  EXPECT_THROW(parse_jwk(p384_jwk), JwkError);
  // Its coordinates relabelled as P-256 are not a P-256 point either.
  Json relabelled = p384_jwk;
  relabelled["crv"] = "P-256";
  EXPECT_THROW(parse_jwk(relabelled), JwkError);

  // A P-256 point that is not on the curve (invalid-curve attack material).
  Json off_curve = to_jwk(ec_key().public_key());
  auto yb = *base64url_decode(off_curve["y"].get<std::string>());
  yb[31] ^= 1;
  off_curve["y"] = b64(yb);
  EXPECT_THROW(parse_jwk(off_curve), JwkError);

  Json okp = {{"kty", "OKP"},
              {"crv", "Ed25519"},
              {"kid", "ed"},
              {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}};
  EXPECT_THROW(parse_jwk(okp), JwkError);
  Json enc = to_jwk(rsa_key().public_key());
  enc["use"] = "enc";
  enc["alg"] = "RSA-OAEP";
  EXPECT_THROW(parse_jwk(enc), JwkError);
  Json ops = to_jwk(rsa_key().public_key());
  ops["key_ops"] = {"encrypt"};
  EXPECT_THROW(parse_jwk(ops), JwkError);
  Json hs = to_jwk(rsa_key().public_key());
  hs["alg"] = "HS256";
  EXPECT_THROW(parse_jwk(hs), JwkError);
  Json mismatch = to_jwk(rsa_key().public_key());
  mismatch["alg"] = "ES256";
  EXPECT_THROW(parse_jwk(mismatch), JwkError);
  Json no_kty = to_jwk(rsa_key().public_key());
  no_kty.erase("kty");
  EXPECT_THROW(parse_jwk(no_kty), JwkError);
  Json bad_b64 = to_jwk(rsa_key().public_key());
  bad_b64["n"] = "not base64url!";
  EXPECT_THROW(parse_jwk(bad_b64), JwkError);
  EXPECT_THROW(parse_jwk(Json::array()), JwkError);

  // In a set, such keys are skipped (RFC 7517 §5) and the usable ones kept.
  Json dup = to_jwk(ec_key().public_key());
  Json jwks = {{"keys",
                {weak, p384_jwk, off_curve, okp, enc, ops, hs, to_jwk(rsa_key().public_key()),
                 to_jwk(ec_key().public_key()), dup}}};
  auto parsed = parse_jwks(jwks);
  ASSERT_EQ(parsed.keys.size(), 2u);
  EXPECT_EQ(parsed.keys[0].kid(), "rsa-1");
  EXPECT_EQ(parsed.keys[1].kid(), "ec-1");
  EXPECT_EQ(parsed.skipped.size(), 8u);  // 7 unusable + 1 duplicate kid
  for (const auto& s : parsed.skipped) EXPECT_EQ(s.find(n1024.substr(0, 4)), std::string::npos);
}

TEST(Jwk, KeycloakShapedSetKeepsTheSignatureKey) {
  Json sig = to_jwk(rsa_key().public_key());
  sig["x5c"] = {"MIIC..."};
  sig["x5t"] = "abc";
  sig["x5t#S256"] = "def";
  Json enc = to_jwk(attacker_key().public_key());
  enc["kid"] = "enc-1";
  enc["use"] = "enc";
  enc["alg"] = "RSA-OAEP";
  auto parsed = parse_jwks(Json{{"keys", {enc, sig}}});
  ASSERT_EQ(parsed.keys.size(), 1u);
  EXPECT_EQ(parsed.keys[0].kid(), "rsa-1");
}

TEST(Jwk, SetShapeIsChecked) {
  EXPECT_THROW(parse_jwks(Json::array()), JwkError);
  EXPECT_THROW(parse_jwks(Json::object()), JwkError);
  EXPECT_THROW(parse_jwks(Json{{"keys", "x"}}), JwkError);
  EXPECT_TRUE(parse_jwks(Json{{"keys", Json::array()}}).keys.empty());
}
