#include "identity/ossl.hpp"

#include <openssl/err.h>

#include <stdexcept>

namespace dive::identity::ossl {

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
