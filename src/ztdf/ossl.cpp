#include "ztdf/ossl.hpp"

#include <openssl/err.h>

#include <string>

#include "ztdf/error.hpp"

namespace dive::ztdf::ossl {

void fail(std::string_view what) {
  clear_errors();
  throw CryptoError(std::string(what) + " failed");
}

Bio read_bio(std::string_view data) {
  Bio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) fail("BIO_new_mem_buf");
  return bio;
}

const EVP_CIPHER* aes_256_gcm() {
  // Held for the life of the process (reachable, so leak checkers do not report it).
  static EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  if (!cipher) fail("fetching AES-256-GCM");
  return cipher;
}

EVP_MAC* hmac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (!mac) fail("fetching HMAC");
  return mac;
}

}  // namespace dive::ztdf::ossl
