// Encryption at rest of signing keys: round trip, tamper detection, key/context binding, format.
#include "identity/key_crypto.hpp"

#include <gtest/gtest.h>

#include "common/random.hpp"
#include "identity_test_util.hpp"

using namespace dive;
using namespace dive::identity;
using namespace dive::identity::testing;

namespace {
std::string key32(char fill = 'k') {
  return std::string(32, fill);
}
}  // namespace

TEST(KeyCrypto, RoundTripRestoresTheSigningKey) {
  auto rnd = secure_random_bytes(32);
  std::string master(rnd.begin(), rnd.end());
  std::string pem = rsa_key().to_pem();
  std::string stored = encrypt_private_key(pem, master, "rsa-1");
  EXPECT_TRUE(is_encrypted_private_key(stored));
  EXPECT_EQ(stored.rfind(kEncryptedKeyPrefix, 0), 0u);
  EXPECT_EQ(stored.find("PRIVATE"), std::string::npos);
  EXPECT_EQ(decrypt_private_key(stored, master, "rsa-1"), pem);
  auto back = SigningKey::from_pem(decrypt_private_key(stored, master, "rsa-1"), Alg::RS256, "rsa-1");
  EXPECT_EQ(back.public_key().thumbprint(), rsa_key().public_key().thumbprint());
}

TEST(KeyCrypto, EachEncryptionUsesAFreshIv) {
  std::string a = encrypt_private_key("pem", key32()), b = encrypt_private_key("pem", key32());
  EXPECT_NE(a, b);
  EXPECT_EQ(decrypt_private_key(a, key32()), "pem");
  EXPECT_EQ(decrypt_private_key(b, key32()), "pem");
}

TEST(KeyCrypto, AnyChangedByteIsDetected) {
  std::string stored = encrypt_private_key(ec_key().to_pem(), key32());
  auto blob = *base64url_decode(stored.substr(kEncryptedKeyPrefix.size()));
  // Every byte position: IV, ciphertext and tag.
  for (size_t i = 0; i < blob.size(); ++i) {
    std::string t = blob;
    t[i] ^= 0x01;
    EXPECT_THROW(decrypt_private_key(std::string(kEncryptedKeyPrefix) + b64(t), key32()), KeyCryptoError)
        << i;
  }
  EXPECT_THROW(
      decrypt_private_key(std::string(kEncryptedKeyPrefix) + b64(blob.substr(0, blob.size() - 1)), key32()),
      KeyCryptoError);
  EXPECT_THROW(decrypt_private_key(std::string(kEncryptedKeyPrefix) + b64(blob.substr(0, 20)), key32()),
               KeyCryptoError);
}

TEST(KeyCrypto, WrongKeyContextOrVersionFails) {
  std::string stored = encrypt_private_key("secret pem", key32('a'), "kid-1");
  EXPECT_THROW(decrypt_private_key(stored, key32('b'), "kid-1"), KeyCryptoError);
  EXPECT_THROW(decrypt_private_key(stored, key32('a'), "kid-2"), KeyCryptoError);
  EXPECT_THROW(decrypt_private_key(stored, key32('a')), KeyCryptoError);
  std::string v2 = "dive-key:v2:" + stored.substr(kEncryptedKeyPrefix.size());
  EXPECT_FALSE(is_encrypted_private_key(v2));
  EXPECT_THROW(decrypt_private_key(v2, key32('a'), "kid-1"), KeyCryptoError);
  EXPECT_THROW(decrypt_private_key("-----BEGIN PRIVATE KEY-----", key32('a')), KeyCryptoError);
  EXPECT_THROW(decrypt_private_key(std::string(kEncryptedKeyPrefix) + "!!", key32('a')), KeyCryptoError);
  EXPECT_THROW(encrypt_private_key("x", std::string(31, 'a')), std::invalid_argument);
  EXPECT_THROW(decrypt_private_key(stored, std::string(33, 'a')), std::invalid_argument);
}

TEST(KeyCrypto, ErrorsDoNotRevealContents) {
  std::string stored = encrypt_private_key("-----BEGIN PRIVATE KEY-----SECRETBYTES", key32('a'));
  try {
    decrypt_private_key(stored, key32('b'));
    FAIL();
  } catch (const KeyCryptoError& e) {
    EXPECT_EQ(std::string(e.what()).find("SECRET"), std::string::npos);
  }
}
