#pragma once
// Internal to dive_identity: RAII owners for the OpenSSL objects the JOSE code uses, and the text of the
// thread's OpenSSL error queue. Every owner frees through its OpenSSL *_free function; nothing else does.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

namespace dive::identity::ossl {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const noexcept { Free(p); }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Deleter<ECDSA_SIG, ECDSA_SIG_free>>;
// A buffer OpenSSL allocated for us (i2d_* output); OPENSSL_free is a macro, hence the function object.
struct OpensslFree {
  void operator()(unsigned char* p) const noexcept { OPENSSL_free(p); }
};
using OsslBytes = std::unique_ptr<unsigned char, OpensslFree>;

// A shared owner of an EVP_PKEY (one reference count per owner, EVP_PKEY_up_ref on copy).
std::shared_ptr<EVP_PKEY> share(PkeyPtr key);

// The oldest error on the thread's OpenSSL queue as "what: reason", and clears the queue. Never
// includes key material (OpenSSL error strings name functions and reasons only).
std::string error(std::string_view what);
// Clears the thread's error queue (after an expected failure such as a bad signature).
void clear_errors();

// Reads everything written to a memory BIO.
std::string bio_contents(BIO* bio);
// Big-endian bytes of bn, left-padded with zeros to `width` bytes (0: minimal length).
std::string bn_bytes(const BIGNUM* bn, size_t width = 0);

}  // namespace dive::identity::ossl
