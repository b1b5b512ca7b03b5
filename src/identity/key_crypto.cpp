#include "identity/key_crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/encoding.hpp"
#include "common/random.hpp"
#include "identity/ossl.hpp"

namespace dive::identity {

namespace {

constexpr size_t kKeyLen = 32, kIvLen = 12, kTagLen = 16;

void check_key(std::string_view key) {
  if (key.size() != kKeyLen) throw std::invalid_argument("the key-encryption key must be 32 bytes");
}

std::string aad_for(std::string_view context) {
  std::string aad(kEncryptedKeyPrefix);
  aad += context;
  return aad;
}

const unsigned char* u8(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// Wipes a string's bytes before it is released.
struct Wipe {
  std::string& s;
  ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
};

}  // namespace

std::string encrypt_private_key(std::string_view pem, std::string_view key, std::string_view context) {
  check_key(key);
  auto iv = secure_random_bytes(kIvLen);
  std::string aad = aad_for(context);
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  std::string out(kIvLen + pem.size() + kTagLen, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  std::copy(iv.begin(), iv.end(), o);
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kIvLen), nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, u8(key), iv.data()) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + kIvLen, &len, u8(pem), static_cast<int>(pem.size())) != 1 ||
      static_cast<size_t>(len) != pem.size() || EVP_EncryptFinal_ex(ctx.get(), o + kIvLen + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagLen),
                          o + kIvLen + pem.size()) != 1)
    throw KeyCryptoError(ossl::error("AES-256-GCM encryption failed"));
  return std::string(kEncryptedKeyPrefix) + base64url_encode(out);
}

std::string decrypt_private_key(std::string_view encrypted, std::string_view key, std::string_view context) {
  check_key(key);
  if (!is_encrypted_private_key(encrypted)) throw KeyCryptoError("not an encrypted key of a known version");
  auto blob = base64url_decode(encrypted.substr(kEncryptedKeyPrefix.size()));
  if (!blob || blob->size() < kIvLen + kTagLen + 1)
    throw KeyCryptoError("encrypted key is truncated or malformed");
  std::string_view b(*blob);
  std::string_view iv = b.substr(0, kIvLen);
  std::string_view ct = b.substr(kIvLen, b.size() - kIvLen - kTagLen);
  std::string tag(b.substr(b.size() - kTagLen));
  std::string aad = aad_for(context);
  std::string pem(ct.size(), '\0');
  Wipe wipe_on_error{pem};
  ossl::CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  auto* p = reinterpret_cast<unsigned char*>(pem.data());
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kIvLen), nullptr) == 1 &&
            EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, u8(key), u8(iv)) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &len, u8(aad), static_cast<int>(aad.size())) == 1 &&
            EVP_DecryptUpdate(ctx.get(), p, &len, u8(ct), static_cast<int>(ct.size())) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagLen), tag.data()) == 1;
  int final_len = 0;
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), p + len, &final_len) == 1;
  ossl::clear_errors();
  if (!ok) throw KeyCryptoError("encrypted key failed authentication (wrong key, context or tampered data)");
  std::string result(pem.data(), static_cast<size_t>(len + final_len));
  return result;
}

bool is_encrypted_private_key(std::string_view text) {
  return text.substr(0, kEncryptedKeyPrefix.size()) == kEncryptedKeyPrefix;
}

}  // namespace dive::identity
