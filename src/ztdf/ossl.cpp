#include "ztdf/ossl.hpp"

#include <openssl/err.h>

#include <string>

#include "ztdf/error.hpp"

namespace dive::ztdf::ossl {

std::shared_ptr<EVP_PKEY> share(Pkey key) {
  return std::shared_ptr<EVP_PKEY>(key.release(), EVP_PKEY_free);
}

void clear_errors() noexcept {
  ERR_clear_error();
}

void fail(std::string_view what) {
  clear_errors();
  throw CryptoError(std::string(what) + " failed");
}

Bio read_bio(std::string_view data) {
  Bio bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) fail("BIO_new_mem_buf");
  return bio;
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string();
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
