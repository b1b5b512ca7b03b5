#include "identity/ossl.hpp"

#include <openssl/err.h>

#include <stdexcept>

namespace dive::identity::ossl {

std::shared_ptr<EVP_PKEY> share(PkeyPtr key) {
  return std::shared_ptr<EVP_PKEY>(key.release(), Deleter<EVP_PKEY, EVP_PKEY_free>{});
}

std::string error(std::string_view what) {
  unsigned long code = ERR_get_error();
  std::string out(what);
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  ERR_clear_error();
  return out;
}

void clear_errors() {
  ERR_clear_error();
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

std::string bn_bytes(const BIGNUM* bn, size_t width) {
  size_t n = static_cast<size_t>(BN_num_bytes(bn));
  if (width == 0) width = n;
  if (n > width) throw std::length_error("number wider than its field");
  std::string out(width, '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(width)) < 0)
    throw std::runtime_error(error("BN_bn2binpad"));
  return out;
}

}  // namespace dive::identity::ossl
