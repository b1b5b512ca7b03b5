#pragma once
// RAII owners of OpenSSL objects, shared by the libraries that use OpenSSL directly (identity's JOSE code,
// ztdf's encryption). Every owner frees through its OpenSSL *_free function; nothing else does.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace dive::ossl {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};

using Pkey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using MacCtx = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX, EVP_MAC_CTX_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, Deleter<EVP_MD_CTX, EVP_MD_CTX_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Bn = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using EcdsaSig = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
// A buffer OpenSSL allocated for us (i2d_* output); OPENSSL_free is a macro, hence the function object.
struct OpensslFree {
  void operator()(unsigned char* p) const noexcept { OPENSSL_free(p); }
};
using OsslBytes = std::unique_ptr<unsigned char, OpensslFree>;

// A shared owner of an EVP_PKEY (what public and private key types hold).
std::shared_ptr<EVP_PKEY> share(Pkey key);

// Clears the thread's OpenSSL error queue (after an expected failure such as a bad signature, so that it
// does not leak into an unrelated caller's error report).
void clear_errors() noexcept;

// notAfter of the first certificate in a PEM file, as Unix seconds; nullopt when it cannot be read.
std::optional<int64_t> certificate_not_after(const std::string& pem_path);

// Everything written to a memory BIO.
std::string bio_contents(BIO* bio);

}  // namespace dive::ossl
