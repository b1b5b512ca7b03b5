// Keys: generation, PEM, sign/verify for RS256/PS256/ES256, the JOSE ES256 signature format, and the
// RFC 7515 A.3 known-answer vector (interoperability of the raw r || s form).
#include "identity/keys.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "identity/ossl.hpp"
#include "identity_test_util.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::testing;

namespace {

std::string pem_of(EVP_PKEY* k, const EVP_CIPHER* cipher = nullptr, const char* pass = nullptr) {
  identity::ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (cipher)
    PEM_write_bio_PKCS8PrivateKey(bio.get(), k, cipher, pass, static_cast<int>(std::strlen(pass)), nullptr,
                                  nullptr);
  else
    PEM_write_bio_PrivateKey(bio.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
  return identity::ossl::bio_contents(bio.get());
}

// The DER ECDSA-Sig-Value of a raw JOSE signature (what OpenSSL emits natively).
std::string to_der(std::string_view raw) {
  identity::ossl::EcdsaSig sig(ECDSA_SIG_new());
  identity::ossl::Bn r(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr));
  identity::ossl::Bn s(BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr));
  ECDSA_SIG_set0(sig.get(), r.release(), s.release());
  unsigned char* out = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &out);
  identity::ossl::OsslBytes der(out);
  return std::string(reinterpret_cast<char*>(der.get()), static_cast<size_t>(len));
}

}  // namespace

TEST(Algorithm, OnlyThreeNamesParse) {
  EXPECT_EQ(parse_alg("RS256"), Alg::RS256);
  EXPECT_EQ(parse_alg("PS256"), Alg::PS256);
  EXPECT_EQ(parse_alg("ES256"), Alg::ES256);
  for (const char* bad : {"none", "None", "NONE", "", "HS256", "HS384", "HS512", "rs256", "RS384", "RS512",
                          "ES384", "EdDSA", "RS256 ", "ES256K"})
    EXPECT_FALSE(parse_alg(bad)) << bad;
}

TEST(Keys, RsaKeySignsAndVerifiesRs256) {
  const auto& k = rsa_key();
  EXPECT_EQ(k.kid(), "rsa-1");
  EXPECT_EQ(k.alg(), Alg::RS256);
  EXPECT_EQ(k.type(), KeyType::Rsa);
  EXPECT_EQ(k.bits(), 2048);
  std::string sig = k.sign("header.payload");
  EXPECT_EQ(sig.size(), 256u);
  EXPECT_TRUE(k.public_key().verify(Alg::RS256, "header.payload", sig));
  EXPECT_FALSE(k.public_key().verify(Alg::RS256, "header.payloaD", sig));
  EXPECT_EQ(sig, k.sign("header.payload"));  // PKCS#1 v1.5 is deterministic
}

TEST(Keys, Ps256IsRandomisedAndNotInterchangeableWithRs256) {
  const auto& k = ps_key();
  std::string a = k.sign("data"), b = k.sign("data");
  EXPECT_NE(a, b);
  EXPECT_TRUE(k.public_key().verify(Alg::PS256, "data", a));
  EXPECT_TRUE(k.public_key().verify(Alg::PS256, "data", b));
  // The same RSA modulus without the alg restriction: a PSS signature is not a PKCS#1 one and vice versa.
  VerifyKey unrestricted = k.public_key().with_alg(std::nullopt);
  EXPECT_TRUE(unrestricted.verify(Alg::PS256, "data", a));
  EXPECT_FALSE(unrestricted.verify(Alg::RS256, "data", a));
  VerifyKey rsa_any = rsa_key().public_key().with_alg(std::nullopt);
  EXPECT_FALSE(rsa_any.verify(Alg::PS256, "data", rsa_key().sign("data")));
}

TEST(Keys, Es256SignatureIsRaw64BytesAndDerIsRefused) {
  const auto& k = ec_key();
  EXPECT_EQ(k.alg(), Alg::ES256);
  EXPECT_EQ(k.bits(), 256);
  std::string sig = k.sign("header.payload");
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(k.public_key().verify(Alg::ES256, "header.payload", sig));
  std::string der = to_der(sig);
  EXPECT_GE(der.size(), 8u);
  EXPECT_FALSE(k.public_key().verify(Alg::ES256, "header.payload", der));  // JOSE requires raw r || s
  std::string flipped = sig;
  flipped[10] ^= 1;
  EXPECT_FALSE(k.public_key().verify(Alg::ES256, "header.payload", flipped));
  EXPECT_FALSE(k.public_key().verify(Alg::ES256, "header.payload", std::string(64, '\0')));
}

TEST(Keys, AlgorithmMustFitTheKey) {
  std::string rsa_sig = rsa_key().sign("x");
  EXPECT_FALSE(ec_key().public_key().verify(Alg::RS256, "x", rsa_sig));
  EXPECT_FALSE(rsa_key().public_key().verify(Alg::ES256, "x", ec_key().sign("x")));
  EXPECT_FALSE(rsa_key().public_key().verify(Alg::PS256, "x", rsa_sig));  // restricted to RS256
  EXPECT_TRUE(rsa_key().public_key().allows(Alg::RS256));
  EXPECT_FALSE(rsa_key().public_key().allows(Alg::PS256));
  EXPECT_FALSE(ec_key().public_key().allows(Alg::RS256));
  EXPECT_THROW(SigningKey::generate_rsa(2048, Alg::ES256), KeyError);
  EXPECT_THROW(rsa_key().public_key().with_alg(Alg::ES256), KeyError);
}

TEST(Keys, RsaSizesOutsideThePolicyAreRefused) {
  EXPECT_THROW(SigningKey::generate_rsa(1024), KeyError);
  EXPECT_THROW(SigningKey::generate_rsa(2047), KeyError);
  auto k2048 = SigningKey::generate_rsa(2048);
  EXPECT_EQ(k2048.bits(), 2048);
  EXPECT_EQ(k2048.alg(), Alg::RS256);
  EXPECT_EQ(k2048.kid(), k2048.public_key().thumbprint());
  EXPECT_TRUE(k2048.public_key().verify(Alg::RS256, "x", k2048.sign("x")));
  auto k3072 = SigningKey::generate_rsa(3072, Alg::PS256);
  EXPECT_EQ(k3072.bits(), 3072);
  EXPECT_EQ(k3072.sign("x").size(), 384u);
  // A weak key read from PEM.
  identity::ossl::Pkey weak(EVP_RSA_gen(1024));
  ASSERT_TRUE(weak);
  EXPECT_THROW(SigningKey::from_pem(pem_of(weak.get())), KeyError);
}

TEST(Keys, DefaultKidIsTheThumbprint) {
  auto k = SigningKey::generate_ec_p256();
  EXPECT_EQ(k.kid(), k.public_key().thumbprint());
  EXPECT_EQ(k.kid().size(), 43u);  // base64url of 32 bytes
  EXPECT_EQ(k.with_kid("other").kid(), "other");
  EXPECT_EQ(k.with_kid("other").public_key().kid(), "other");
}

TEST(Keys, PemRoundTripKeepsTheKey) {
  for (const SigningKey* k : {&rsa_key(), &ec_key(), &ps_key()}) {
    std::string pem = k->to_pem();
    EXPECT_NE(pem.find("-----BEGIN PRIVATE KEY-----"), std::string::npos);  // PKCS#8
    auto back = SigningKey::from_pem(pem, k->alg(), k->kid());
    EXPECT_EQ(back.public_key().thumbprint(), k->public_key().thumbprint());
    EXPECT_EQ(back.kid(), k->kid());
    EXPECT_EQ(back.alg(), k->alg());
    std::string sig = back.sign("round trip");
    EXPECT_TRUE(k->public_key().verify(k->alg(), "round trip", sig));
    // The public key's PEM reads back as a verification key.
    auto pub = VerifyKey::from_pem(k->public_key().to_pem(), "p");
    EXPECT_EQ(pub.thumbprint(), k->public_key().thumbprint());
    EXPECT_TRUE(pub.verify(k->alg(), "round trip", sig));
    EXPECT_EQ(k->public_key().to_pem().find("PRIVATE"), std::string::npos);
  }
}

TEST(Keys, FromPemRefusesWhatItCannotUse) {
  EXPECT_THROW(SigningKey::from_pem("not a pem"), KeyError);
  EXPECT_THROW(SigningKey::from_pem(rsa_key().public_key().to_pem()), KeyError);  // public only
  // An encrypted PEM is refused rather than prompting for a password.
  {
    auto pem = rsa_key().to_pem();
    identity::ossl::Bio in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    identity::ossl::Pkey k(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(k);
    EXPECT_THROW(SigningKey::from_pem(pem_of(k.get(), EVP_aes_256_cbc(), "secret")), KeyError);
  }
  identity::ossl::Pkey p384(EVP_EC_gen("P-384"));
  ASSERT_TRUE(p384);
  EXPECT_THROW(SigningKey::from_pem(pem_of(p384.get())), KeyError);
  identity::ossl::Pkey ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(ed);
  EXPECT_THROW(SigningKey::from_pem(pem_of(ed.get())), KeyError);
  EXPECT_THROW(SigningKey::from_pem(ec_key().to_pem(), Alg::RS256), KeyError);  // alg does not fit
}

TEST(Keys, VerifyNeverThrowsOnGarbage) {
  const auto& pub = rsa_key().public_key();
  EXPECT_FALSE(pub.verify(Alg::RS256, "x", ""));
  EXPECT_FALSE(pub.verify(Alg::RS256, "x", std::string(255, 'a')));
  EXPECT_FALSE(pub.verify(Alg::RS256, "x", std::string(256, '\xff')));  // larger than the modulus
  EXPECT_FALSE(pub.verify(Alg::RS256, "x", std::string(257, 'a')));
  EXPECT_FALSE(ec_key().public_key().verify(Alg::ES256, "x", std::string(64, '\xff')));  // r, s >= n
}

// RFC 7515 Appendix A.3: ES256 example (public key, signing input and signature from the RFC).
TEST(Keys, Rfc7515AppendixA3Es256KnownAnswer) {
  auto x = base64url_decode("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU");
  auto y = base64url_decode("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
  ASSERT_TRUE(x && y);
  auto key = VerifyKey::from_ec_p256(*x, *y, "rfc");
  std::string input =
      "eyJhbGciOiJFUzI1NiJ9."
      "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
  auto sig = base64url_decode(
      "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q");
  ASSERT_TRUE(sig);
  EXPECT_TRUE(key.verify(Alg::ES256, input, *sig));
  EXPECT_FALSE(key.verify(Alg::ES256, input + "x", *sig));
  EXPECT_FALSE(key.verify(Alg::ES256, input, to_der(*sig)));
}

TEST(Keys, SharedKeysSignFromManyThreads) {
  const auto& k = ec_key();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        std::string msg = "m" + std::to_string(i);
        if (k.public_key().verify(Alg::ES256, msg, k.sign(msg))) ++ok;
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}
