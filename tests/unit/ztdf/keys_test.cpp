// Keys: PEM and JWK in and out, refusals, wrapping and the clientPublicKey rewrap flow.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/encoding.hpp"
#include "ztdf/ztdf.hpp"
#include "ztdf_test_util.hpp"

using namespace dive;
using namespace dive::ztdf;
using namespace dive::ztdf::test;

TEST(Keys, DataKeysAreRandomAndComparedInConstantTime) {
  DataKey a = DataKey::generate();
  DataKey b = DataKey::generate();
  EXPECT_EQ(a.bytes().size(), 32u);
  EXPECT_FALSE(a == b);
  EXPECT_TRUE(DataKey::from_bytes(a.bytes()) == a);
  EXPECT_THROW(DataKey::from_bytes("short"), KeyError);
}

TEST(Keys, PemRoundTripsAndEncryptedPrivateKeys) {
  const PrivateKey& k = kas_a().private_key;
  EXPECT_EQ(k.bits(), 2048);
  PublicKey pub = k.public_key();
  const std::string pem = pub.to_pem();
  EXPECT_NE(pem.find("BEGIN PUBLIC KEY"), std::string::npos);
  EXPECT_EQ(PublicKey::from_pem(pem).fingerprint(), pub.fingerprint());
  EXPECT_EQ(pub.fingerprint().size(), 64u);

  const std::string plain = k.to_pem();
  EXPECT_NE(plain.find("BEGIN PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(PrivateKey::from_pem(plain).public_key().fingerprint(), pub.fingerprint());

  // At rest: PKCS#8 encrypted with a passphrase; a wrong or missing passphrase is a clean KeyError.
  const std::string sealed = k.to_pem("correct horse battery staple");
  EXPECT_NE(sealed.find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(PrivateKey::from_pem(sealed, "correct horse battery staple").public_key().fingerprint(),
            pub.fingerprint());
  EXPECT_THROW(PrivateKey::from_pem(sealed, "wrong"), KeyError);
  EXPECT_THROW(PrivateKey::from_pem(sealed), KeyError);
  try {
    PrivateKey::from_pem(sealed, "wrong");
  } catch (const KeyError& e) {
    EXPECT_EQ(std::string(e.what()).find("correct horse"), std::string::npos);
  }
}

TEST(Keys, JwkRoundTripAndClientKeyForms) {
  PublicKey pub = client_key().public_key();
  Json jwk = pub.to_jwk("client-1");
  EXPECT_EQ(jwk.at("kty"), "RSA");
  EXPECT_EQ(jwk.at("e"), "AQAB");
  EXPECT_EQ(jwk.at("alg"), "RSA-OAEP-256");
  EXPECT_EQ(jwk.at("kid"), "client-1");
  EXPECT_EQ(PublicKey::from_jwk(jwk).fingerprint(), pub.fingerprint());
  EXPECT_EQ(PublicKey::from_client_key(jwk).fingerprint(), pub.fingerprint());
  EXPECT_EQ(PublicKey::from_client_key(Json(jwk.dump())).fingerprint(), pub.fingerprint());
  EXPECT_EQ(PublicKey::from_client_key(Json(pub.to_pem())).fingerprint(), pub.fingerprint());
}

TEST(Keys, UnusableKeysAreRefused) {
  Json jwk = client_key().public_key().to_jwk();
  auto refuse_jwk = [](Json j) { EXPECT_THROW(PublicKey::from_jwk(j), KeyError) << j.dump(); };
  Json j = jwk;
  j["kty"] = "EC";
  refuse_jwk(j);
  j = jwk;
  j["alg"] = "RSA-OAEP";  // SHA-1 OAEP: the client could not unwrap what we send
  refuse_jwk(j);
  j = jwk;
  j["use"] = "sig";
  refuse_jwk(j);
  j = jwk;
  j["d"] = "AQAB";  // private members: refused, never used
  refuse_jwk(j);
  j = jwk;
  j["n"] = "!!";
  refuse_jwk(j);
  j = jwk;
  j["e"] = "AQ";  // e = 1 would "encrypt" to the padded plaintext
  refuse_jwk(j);
  j = jwk;
  j["e"] = "AQAA";  // even exponent
  refuse_jwk(j);
  j = jwk;
  j["n"] = base64url_encode(std::string(128, '\xff'));  // 1024 bits
  refuse_jwk(j);
  j = jwk;
  j.erase("n");
  refuse_jwk(j);
  refuse_jwk(Json::array());
  refuse_jwk(Json("x"));

  EXPECT_THROW(PublicKey::from_pem("not a pem"), KeyError);
  EXPECT_THROW(PublicKey::from_pem(""), KeyError);
  EXPECT_THROW(PublicKey::from_pem(kas_a().private_key.to_pem()), KeyError);  // a private key as "public"
  EXPECT_THROW(PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
               KeyError);
  EXPECT_THROW(PublicKey::from_client_key(Json(42)), KeyError);
  EXPECT_THROW(PublicKey::from_client_key(Json("{not json")), KeyError);
  EXPECT_THROW(PrivateKey::generate_rsa(1024), KeyError);
}

TEST(Keys, NonRsaKeysAreRefused) {
  // An EC P-256 key: a fine key, but not one RSA-OAEP can wrap to.
  EVP_PKEY* ec = EVP_EC_gen("P-256");
  ASSERT_NE(ec, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, ec), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(ec);
  try {
    PublicKey::from_pem(pem);
    ADD_FAILURE() << "an EC key was accepted";
  } catch (const KeyError& e) {
    EXPECT_NE(std::string(e.what()).find("not an RSA key"), std::string::npos) << e.what();
  }
}

TEST(KeyAccess, TwoKaosForTwoKasKeysBothUnwrapToTheSameKey) {
  Object o = two_kas_object();
  ASSERT_EQ(o.key_access.size(), 2u);
  EXPECT_EQ(o.key_access[0].kid, "kas-a-1");
  EXPECT_EQ(o.key_access[1].kid, "kas-b-1");
  EXPECT_NE(o.key_access[0].wrapped_key, o.key_access[1].wrapped_key);
  DataKey a = open_key_access(o.policy, o.key_access[0], kas_a().private_key);
  DataKey b = open_key_access(o.policy, o.key_access[1], kas_b().private_key);
  EXPECT_TRUE(a == b);
  EXPECT_EQ(decrypt(o, a), sample_text());
  // Each KAO unwraps only with its own KAS key.
  EXPECT_THROW(unwrap_key(o.key_access[0], kas_b().private_key), UnwrapError);
  EXPECT_THROW(unwrap_key(o.key_access[1], kas_a().private_key), UnwrapError);
}

TEST(KeyAccess, RewrapToAClientKeyPemOrJwk) {
  Object o = two_kas_object();
  DataKey key = open_key_access(o.policy, o.key_access[0], kas_a().private_key);
  for (const Json& client : {Json(client_key().public_key().to_pem()), client_key().public_key().to_jwk()}) {
    const std::string wrapped = rewrap(key, PublicKey::from_client_key(client));
    EXPECT_EQ(base64_decode(wrapped)->size(), 256u);
    DataKey recovered = unwrap_rewrapped(wrapped, client_key());
    EXPECT_TRUE(recovered == key);
    EXPECT_EQ(decrypt(o, recovered), sample_text());
    // Only the client's private key opens it.
    EXPECT_THROW(unwrap_rewrapped(wrapped, kas_a().private_key), UnwrapError);
  }
  EXPECT_THROW(unwrap_rewrapped("***", client_key()), UnwrapError);
}

TEST(KeyAccess, AddKeyAccessForARotatedKasKey) {
  ObjectInfo info;
  info.object_id = "doc-USA-rotate";
  Object o = encrypt("text", test::fvey_label(), {kas_a().public_entry()}, info);
  DataKey key = key_of(o);
  KasPublicKey rotated{"https://kas-a.test:10000", "kas-a-2", kas_b().private_key.public_key()};
  add_key_access(o, key, rotated);
  ASSERT_EQ(o.key_access.size(), 2u);
  EXPECT_TRUE(open_key_access(o.policy, o.key_access[1], kas_b().private_key) == key);
  EXPECT_TRUE(validate(o, key).ok()) << validate(o, key).summary();
  EXPECT_THROW(add_key_access(o, key, rotated), FormatError);  // same url + kid
  EXPECT_THROW(add_key_access(o, DataKey::generate(), kas_b().public_entry()),
               IntegrityError);  // not its key
}
