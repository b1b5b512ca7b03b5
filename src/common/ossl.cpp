#include "common/ossl.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>

namespace dive::ossl {

std::shared_ptr<EVP_PKEY> share(Pkey key) {
  return std::shared_ptr<EVP_PKEY>(key.release(), Deleter<EVP_PKEY, EVP_PKEY_free>{});
}

void clear_errors() noexcept {
  ERR_clear_error();
}

std::optional<int64_t> certificate_not_after(const std::string& pem_path) {
  Bio in(BIO_new_file(pem_path.c_str(), "r"));
  if (!in) {
    clear_errors();
    return std::nullopt;
  }
  std::unique_ptr<X509, Deleter<X509, X509_free>> cert(
      PEM_read_bio_X509(in.get(), nullptr, nullptr, nullptr));
  std::tm tm{};
  if (!cert || ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) != 1) {
    clear_errors();
    return std::nullopt;
  }
  return static_cast<int64_t>(::timegm(&tm));
}

std::string bio_contents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  if (len <= 0 || data == nullptr) return {};
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace dive::ossl
