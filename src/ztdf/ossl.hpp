#pragma once
// Internal to dive_ztdf: RAII owners of OpenSSL objects and error-queue handling.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>

#include <memory>
#include <string_view>

namespace dive::ztdf::ossl {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};

using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Bn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

// A shared owner of a key (what PublicKey and PrivateKey hold).
std::shared_ptr<EVP_PKEY> share(Pkey key);

// Clears the thread's OpenSSL error queue (after an expected failure, so that it does not leak into an
// unrelated caller's error report).
void clear_errors() noexcept;

// Clears the queue and throws CryptoError("<what> failed"). OpenSSL's own texts are not included: they
// add nothing for an operator and may name internals.
[[noreturn]] void fail(std::string_view what);

// A memory BIO reading `data` (not copied; keep `data` alive).
Bio read_bio(std::string_view data);
std::string bio_contents(BIO* bio);

// Algorithms fetched once per process (OpenSSL 3 implicit fetches cost a lock and a lookup each time).
const EVP_CIPHER* aes_256_gcm();
EVP_MAC* hmac();

}  // namespace dive::ztdf::ossl
