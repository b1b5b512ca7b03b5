#include "ztdf/keys.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>

#include "common/encoding.hpp"
#include "common/random.hpp"
#include "ztdf/error.hpp"
#include "ztdf/ossl.hpp"
#include "ztdf/strict_json.hpp"

namespace dive::ztdf {

namespace {

constexpr size_t kMaxPemBytes = 64 * 1024;

// Only RSA keys usable for OAEP, of a sane size, with a sane public exponent.
std::shared_ptr<EVP_PKEY> checked_rsa(ossl::Pkey key, const char* what) {
  if (!key) {
    ossl::clear_errors();
    throw KeyError(std::string("cannot read the ") + what);
  }
  if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_RSA)
    throw KeyError(std::string("the ") + what + " is not an RSA key (RSA-OAEP-256 needs one)");
  int bits = EVP_PKEY_get_bits(key.get());
  if (bits < kMinRsaBits || bits > kMaxRsaBits)
    throw KeyError(std::string("the ") + what + " has " + std::to_string(bits) + " bits; " +
                   std::to_string(kMinRsaBits) + " to " + std::to_string(kMaxRsaBits) + " are accepted");
  BIGNUM* e_raw = nullptr;
  if (EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &e_raw) != 1)
    ossl::fail("reading the RSA exponent");
  ossl::Bn e(e_raw);
  if (!BN_is_odd(e.get()) || BN_num_bits(e.get()) < 2 || BN_num_bits(e.get()) > 64)
    throw KeyError(std::string("the ") + what + " has an unusable public exponent");
  return ossl::share(std::move(key));
}

std::string bn_param(EVP_PKEY* key, const char* name) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &raw) != 1) ossl::fail("reading an RSA parameter");
  ossl::Bn bn(raw);
  std::string out(static_cast<size_t>(BN_num_bytes(bn.get())), '\0');
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

int passphrase_cb(char* buf, int size, int /*rwflag*/, void* u) {
  const auto* pass = static_cast<const std::string_view*>(u);
  if (!pass || pass->empty() || pass->size() > static_cast<size_t>(size)) return 0;
  std::memcpy(buf, pass->data(), pass->size());
  return static_cast<int>(pass->size());
}

}  // namespace

// ---- DataKey

DataKey DataKey::generate() {
  DataKey k;
  auto bytes = secure_random_bytes(kSize);
  std::memcpy(k.key_.data(), bytes.data(), kSize);
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return k;
}

DataKey DataKey::from_bytes(std::string_view bytes) {
  if (bytes.size() != kSize) throw KeyError("a data key must be 32 bytes");
  DataKey k;
  std::memcpy(k.key_.data(), bytes.data(), kSize);
  return k;
}

DataKey::~DataKey() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

bool DataKey::operator==(const DataKey& other) const noexcept {
  return CRYPTO_memcmp(key_.data(), other.key_.data(), kSize) == 0;
}

// ---- PublicKey

PublicKey PublicKey::from_pem(std::string_view pem) {
  if (pem.size() > kMaxPemBytes) throw KeyError("the public key PEM is too large");
  if (pem.find("PRIVATE KEY") != std::string_view::npos)
    throw KeyError("a private key was given where a public key is expected; send the public key only");
  // The generic decoder reads both SubjectPublicKeyInfo and PKCS#1 ("RSA PUBLIC KEY").
  EVP_PKEY* raw = nullptr;
  std::unique_ptr<OSSL_DECODER_CTX, ossl::Deleter<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>> dctx(
      OSSL_DECODER_CTX_new_for_pkey(&raw, "PEM", nullptr, nullptr, OSSL_KEYMGMT_SELECT_PUBLIC_KEY, nullptr,
                                    nullptr));
  if (!dctx) ossl::fail("OSSL_DECODER_CTX_new_for_pkey");
  auto bio = ossl::read_bio(pem);
  if (OSSL_DECODER_from_bio(dctx.get(), bio.get()) != 1) raw = nullptr;
  ossl::Pkey key(raw);
  return PublicKey(checked_rsa(std::move(key), "public key"));
}

PublicKey PublicKey::from_jwk(const Json& jwk) {
  if (!jwk.is_object()) throw KeyError("a JWK must be a JSON object");
  for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "oth"})
    if (jwk.contains(priv)) throw KeyError("the JWK contains private key members; send the public key only");
  auto str = [&](const char* name) -> const std::string* {
    auto it = jwk.find(name);
    if (it == jwk.end()) return nullptr;
    if (!it->is_string()) throw KeyError(std::string("JWK member \"") + name + "\" must be a string");
    return &it->get_ref<const std::string&>();
  };
  const std::string* kty = str("kty");
  if (!kty || *kty != "RSA") throw KeyError("the JWK must have kty \"RSA\"");
  if (const std::string* alg = str("alg"); alg && *alg != "RSA-OAEP-256")
    throw KeyError("the JWK's alg must be \"RSA-OAEP-256\" when present");
  if (const std::string* use = str("use"); use && *use != "enc")
    throw KeyError("the JWK's use must be \"enc\" when present");
  const std::string* n64 = str("n");
  const std::string* e64 = str("e");
  if (!n64 || !e64) throw KeyError("the JWK needs n and e");
  auto n = base64url_decode(*n64);
  auto e = base64url_decode(*e64);
  if (!n || !e || n->empty() || e->empty() || n->size() > kMaxRsaBits / 8 + 1 || e->size() > 8)
    throw KeyError("the JWK's n or e is not a valid base64url integer");
  ossl::Bn bn_n(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(n->data()), static_cast<int>(n->size()), nullptr));
  ossl::Bn bn_e(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(e->data()), static_cast<int>(e->size()), nullptr));
  if (!bn_n || !bn_e) ossl::fail("BN_bin2bn");
  std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>> bld(
      OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    ossl::fail("building RSA parameters");
  std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM, OSSL_PARAM_free>> params(
      OSSL_PARAM_BLD_to_param(bld.get()));
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) ossl::fail("EVP_PKEY_fromdata_init");
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ossl::clear_errors();
    throw KeyError("the JWK does not describe a usable RSA public key");
  }
  return PublicKey(checked_rsa(ossl::Pkey(raw), "JWK public key"));
}

PublicKey PublicKey::from_client_key(const Json& value) {
  if (value.is_object()) return from_jwk(value);
  if (!value.is_string()) throw KeyError("clientPublicKey must be a PEM string or a JWK object");
  const auto& text = value.get_ref<const std::string&>();
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    if (text.size() > kMaxPemBytes) throw KeyError("the client JWK is too large");
    Json jwk;
    try {
      jwk = detail::parse_strict(text, 4);
    } catch (const FormatError&) {
      throw KeyError("clientPublicKey is neither PEM nor JWK JSON");
    }
    return from_jwk(jwk);
  }
  return from_pem(text);
}

std::string PublicKey::to_pem() const {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) ossl::fail("PEM_write_bio_PUBKEY");
  return ossl::bio_contents(bio.get());
}

Json PublicKey::to_jwk(std::string_view kid) const {
  Json j = {{"kty", "RSA"},
            {"n", base64url_encode(bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N))},
            {"e", base64url_encode(bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E))},
            {"alg", "RSA-OAEP-256"},
            {"use", "enc"}};
  if (!kid.empty()) j["kid"] = std::string(kid);
  return j;
}

std::string PublicKey::fingerprint() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  if (len <= 0) ossl::fail("i2d_PUBKEY");
  std::string out =
      sha256_hex(std::string_view(reinterpret_cast<const char*>(der), static_cast<size_t>(len)));
  OPENSSL_free(der);
  return out;
}

int PublicKey::bits() const noexcept {
  return EVP_PKEY_get_bits(key_.get());
}

// ---- PrivateKey

PrivateKey PrivateKey::generate_rsa(int bits) {
  if (bits < kMinRsaBits || bits > kMaxRsaBits)
    throw KeyError("RSA keys of " + std::to_string(kMinRsaBits) + " to " + std::to_string(kMaxRsaBits) +
                   " bits are supported");
  ossl::Pkey key(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!key) ossl::fail("RSA key generation");
  return PrivateKey(checked_rsa(std::move(key), "generated key"));
}

PrivateKey PrivateKey::from_pem(std::string_view pem, std::string_view passphrase) {
  if (pem.size() > kMaxPemBytes) throw KeyError("the private key PEM is too large");
  auto bio = ossl::read_bio(pem);
  ossl::Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, passphrase_cb, &passphrase));
  if (!key) {
    ossl::clear_errors();
    throw KeyError(passphrase.empty() ? "cannot read the private key (encrypted keys need their passphrase)"
                                      : "cannot read the private key (or the passphrase is wrong)");
  }
  return PrivateKey(checked_rsa(std::move(key), "private key"));
}

std::string PrivateKey::to_pem(std::string_view passphrase) const {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio) ossl::fail("BIO_new");
  int ok = 0;
  if (passphrase.empty()) {
    ok = PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    ok = PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), EVP_aes_256_cbc(), passphrase.data(),
                                       static_cast<int>(passphrase.size()), nullptr, nullptr);
  }
  if (ok != 1) ossl::fail("writing the private key");
  return ossl::bio_contents(bio.get());
}

PublicKey PrivateKey::public_key() const {
  // A public-only copy, so that holders of the PublicKey cannot reach the private parts.
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  if (len <= 0) ossl::fail("i2d_PUBKEY");
  const unsigned char* p = der;
  ossl::Pkey pub(d2i_PUBKEY(nullptr, &p, len));
  OPENSSL_free(der);
  return PublicKey(checked_rsa(std::move(pub), "public key"));
}

int PrivateKey::bits() const noexcept {
  return EVP_PKEY_get_bits(key_.get());
}

}  // namespace dive::ztdf
