#include "common/ossl.hpp"

#include <openssl/err.h>

namespace dive::ossl {

std::shared_ptr<EVP_PKEY> share(Pkey key) {
  return std::shared_ptr<EVP_PKEY>(key.release(), Deleter<EVP_PKEY, EVP_PKEY_free>{});
}

void clear_errors() noexcept {
  ERR_clear_error();
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace dive::ossl
