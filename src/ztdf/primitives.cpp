#include "ztdf/primitives.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>

#include <climits>

#include "ztdf/error.hpp"
#include "ztdf/ossl.hpp"

namespace dive::ztdf::detail {

namespace {

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
unsigned char* u8(std::string& s) {
  return reinterpret_cast<unsigned char*>(s.data());
}

int checked_int(size_t n) {
  if (n > static_cast<size_t>(INT_MAX)) throw CryptoError("input too large");
  return static_cast<int>(n);
}

// pad-mode oaep, digest SHA-256, MGF1 SHA-256 (OSSL_PARAM arrays need non-const char*).
struct OaepParams {
  char pad[5] = "oaep";
  char md[7] = "SHA256";
  char mgf1[7] = "SHA256";
  OSSL_PARAM params[4];
  OaepParams() {
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_PAD_MODE, pad, 0);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_OAEP_DIGEST, md, 0);
    params[2] = OSSL_PARAM_construct_utf8_string(OSSL_ASYM_CIPHER_PARAM_MGF1_DIGEST, mgf1, 0);
    params[3] = OSSL_PARAM_construct_end();
  }
};

}  // namespace

GcmSealed aes_gcm_seal(const DataKey& key, std::string_view iv, std::string_view aad,
                       std::string_view plaintext) {
  if (iv.size() != kGcmIvBytes) throw CryptoError("AES-GCM needs a 12-byte IV");
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), ossl::aes_256_gcm(), u8(key.bytes()), u8(iv), nullptr) != 1)
    ossl::fail("AES-GCM init");
  int len = 0;
  if (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, u8(aad), checked_int(aad.size())) != 1)
    ossl::fail("AES-GCM AAD");
  GcmSealed out;
  out.ciphertext.resize(plaintext.size());
  if (!plaintext.empty() && EVP_EncryptUpdate(ctx.get(), u8(out.ciphertext), &len, u8(plaintext),
                                              checked_int(plaintext.size())) != 1)
    ossl::fail("AES-GCM encrypt");
  int tail = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), u8(out.ciphertext) + len, &tail) != 1) ossl::fail("AES-GCM final");
  out.tag.resize(kGcmTagBytes);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmTagBytes, u8(out.tag)) != 1)
    ossl::fail("AES-GCM tag");
  return out;
}

std::optional<std::string> aes_gcm_open(const DataKey& key, std::string_view iv, std::string_view aad,
                                        std::string_view ciphertext, std::string_view tag) {
  if (iv.size() != kGcmIvBytes || tag.size() != kGcmTagBytes) return std::nullopt;
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_DecryptInit_ex2(ctx.get(), ossl::aes_256_gcm(), u8(key.bytes()), u8(iv), nullptr) != 1)
    ossl::fail("AES-GCM init");
  int len = 0;
  if (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, u8(aad), checked_int(aad.size())) != 1)
    ossl::fail("AES-GCM AAD");
  std::string plain(ciphertext.size(), '\0');
  if (!ciphertext.empty() &&
      EVP_DecryptUpdate(ctx.get(), u8(plain), &len, u8(ciphertext), checked_int(ciphertext.size())) != 1)
    ossl::fail("AES-GCM decrypt");
  std::string tag_copy(tag);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmTagBytes, u8(tag_copy)) != 1)
    ossl::fail("AES-GCM tag");
  int tail = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), u8(plain) + len, &tail) != 1) {
    ossl::clear_errors();
    OPENSSL_cleanse(plain.data(), plain.size());
    return std::nullopt;
  }
  return plain;
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  ossl::MacCtx ctx(EVP_MAC_CTX_new(ossl::hmac()));
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!ctx || EVP_MAC_init(ctx.get(), u8(key), key.size(), params) != 1) ossl::fail("HMAC init");
  if (EVP_MAC_update(ctx.get(), u8(message), message.size()) != 1) ossl::fail("HMAC update");
  std::string out(32, '\0');
  size_t len = 0;
  if (EVP_MAC_final(ctx.get(), u8(out), &len, out.size()) != 1 || len != 32) ossl::fail("HMAC final");
  return out;
}

std::string rsa_oaep_wrap(const PublicKey& key, std::string_view secret) {
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.native(), nullptr));
  OaepParams p;
  if (!ctx || EVP_PKEY_encrypt_init_ex(ctx.get(), p.params) != 1) ossl::fail("RSA-OAEP init");
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, u8(secret), secret.size()) != 1) ossl::fail("RSA-OAEP size");
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), u8(out), &len, u8(secret), secret.size()) != 1) ossl::fail("RSA-OAEP wrap");
  out.resize(len);
  return out;
}

std::optional<std::string> rsa_oaep_unwrap(const PrivateKey& key, std::string_view wrapped) {
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.native(), nullptr));
  OaepParams p;
  if (!ctx || EVP_PKEY_decrypt_init_ex(ctx.get(), p.params) != 1) ossl::fail("RSA-OAEP init");
  // A ciphertext must be exactly the modulus size; anything else is not ours (and is cheap to refuse).
  if (wrapped.size() != static_cast<size_t>(EVP_PKEY_get_size(key.native()))) return std::nullopt;
  size_t len = 0;
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &len, u8(wrapped), wrapped.size()) != 1) {
    ossl::clear_errors();
    return std::nullopt;
  }
  std::string out(len, '\0');
  if (EVP_PKEY_decrypt(ctx.get(), u8(out), &len, u8(wrapped), wrapped.size()) != 1) {
    ossl::clear_errors();
    OPENSSL_cleanse(out.data(), out.size());
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace dive::ztdf::detail
