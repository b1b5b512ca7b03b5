#pragma once
// Internal to dive_ztdf: the shared OpenSSL owners (common/ossl.hpp) plus error handling that throws
// CryptoError, and the algorithms it fetches once.
#include <string_view>

#include "common/ossl.hpp"

namespace dive::ztdf::ossl {

using namespace dive::ossl;

// Clears the queue and throws CryptoError("<what> failed"). OpenSSL's own texts are not included: they
// add nothing for an operator and may name internals.
[[noreturn]] void fail(std::string_view what);

// A memory BIO reading `data` (not copied; keep `data` alive).
Bio read_bio(std::string_view data);

// Algorithms fetched once per process (OpenSSL 3 implicit fetches cost a lock and a lookup each time).
const EVP_CIPHER* aes_256_gcm();
EVP_MAC* hmac();

}  // namespace dive::ztdf::ossl
