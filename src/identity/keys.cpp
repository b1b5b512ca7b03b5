#include "identity/keys.hpp"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <vector>

#include "common/encoding.hpp"
#include "common/mutex.hpp"
#include "identity/ossl.hpp"

namespace dive::identity {

namespace detail {

// One key and its pools of prepared contexts (one pool per algorithm). A private KeyMaterial only signs,
// a public one only verifies. Thread-safe: a key is shared by every thread that signs or verifies with it;
// mu_ guards the pools, the key itself is immutable.
class KeyMaterial {
 public:
  KeyMaterial(std::shared_ptr<EVP_PKEY> pkey, KeyType type, bool is_private)
      : pkey_(std::move(pkey)), type_(type), bits_(EVP_PKEY_get_bits(pkey_.get())), private_(is_private) {}

  EVP_PKEY* pkey() const { return pkey_.get(); }
  KeyType type() const { return type_; }
  int bits() const { return bits_; }
  bool is_private() const { return private_; }

  // A prepared context for `alg`, returned to the pool when the lease ends.
  class Lease {
   public:
    Lease(const KeyMaterial& m, Alg alg, ossl::PkeyCtx ctx) : m_(m), alg_(alg), ctx_(std::move(ctx)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { m_.give_back(alg_, std::move(ctx_)); }
    EVP_PKEY_CTX* get() const { return ctx_.get(); }

   private:
    const KeyMaterial& m_;
    Alg alg_;
    ossl::PkeyCtx ctx_;
  };

  Lease lease(Alg alg) const {
    {
      MutexLock lock(mu_);
      auto& idle = idle_[index(alg)];
      if (!idle.empty()) {
        auto ctx = std::move(idle.back());
        idle.pop_back();
        return Lease(*this, alg, std::move(ctx));
      }
    }
    return Lease(*this, alg, make_ctx(alg));
  }

  // Public members (RFC 7638 order) and thumbprint, computed once.
  Json members;
  std::string thumbprint;

 private:
  static size_t index(Alg alg) { return static_cast<size_t>(alg); }
  static constexpr size_t kMaxIdle = 32;

  void give_back(Alg alg, ossl::PkeyCtx ctx) const {
    if (!ctx) return;
    MutexLock lock(mu_);
    auto& idle = idle_[index(alg)];
    if (idle.size() < kMaxIdle) idle.push_back(std::move(ctx));
  }

  ossl::PkeyCtx make_ctx(Alg alg) const {
    ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey_.get(), nullptr));
    if (!ctx) throw KeyError(ossl::error("EVP_PKEY_CTX_new_from_pkey"));
    EVP_PKEY_CTX* c = ctx.get();
    if ((private_ ? EVP_PKEY_sign_init(c) : EVP_PKEY_verify_init(c)) != 1)
      throw KeyError(ossl::error("EVP_PKEY_sign/verify_init"));
    if (type_ == KeyType::Rsa) {
      bool pss = alg == Alg::PS256;
      if (EVP_PKEY_CTX_set_rsa_padding(c, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) != 1)
        throw KeyError(ossl::error("EVP_PKEY_CTX_set_rsa_padding"));
      if (EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) != 1)
        throw KeyError(ossl::error("EVP_PKEY_CTX_set_signature_md"));
      // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash (also required when verifying).
      if (pss && (EVP_PKEY_CTX_set_rsa_mgf1_md(c, EVP_sha256()) != 1 ||
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(c, RSA_PSS_SALTLEN_DIGEST) != 1))
        throw KeyError(ossl::error("PSS parameters"));
    } else if (EVP_PKEY_CTX_set_signature_md(c, EVP_sha256()) != 1) {
      throw KeyError(ossl::error("EVP_PKEY_CTX_set_signature_md"));
    }
    return ctx;
  }

  std::shared_ptr<EVP_PKEY> pkey_;
  KeyType type_;
  int bits_;
  bool private_;
  mutable Mutex mu_;
  mutable std::array<std::vector<ossl::PkeyCtx>, 3> idle_ GUARDED_BY(mu_);
};

}  // namespace detail

namespace {

using detail::KeyMaterial;

ossl::Bn get_bn(const EVP_PKEY* pkey, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1 || bn == nullptr)
    throw KeyError(ossl::error(std::string("reading key parameter ") + name));
  return ossl::Bn(bn);
}

bool is_p256(const EVP_PKEY* pkey) {
  char name[64] = {};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, name, sizeof name, &len) != 1) {
    ossl::clear_errors();
    return false;
  }
  std::string_view n(name, len);
  return n == SN_X9_62_prime256v1 || n == "P-256" || n == "secp256r1";
}

// Checks the key is one DIVE accepts and returns its type.
KeyType classify(const EVP_PKEY* pkey) {
  if (EVP_PKEY_is_a(pkey, "RSA")) {
    int bits = EVP_PKEY_get_bits(pkey);
    if (bits < kMinRsaBits)
      throw KeyError("RSA key of " + std::to_string(bits) + " bits: at least " + std::to_string(kMinRsaBits) +
                     " are required");
    if (bits > kMaxRsaBits)
      throw KeyError("RSA key of " + std::to_string(bits) + " bits: at most " + std::to_string(kMaxRsaBits) +
                     " are accepted");
    auto e = get_bn(pkey, OSSL_PKEY_PARAM_RSA_E);
    if (!BN_is_odd(e.get()) || BN_num_bits(e.get()) < 2 || BN_num_bits(e.get()) > 64)
      throw KeyError("RSA public exponent must be odd, at least 3 and at most 64 bits");
    return KeyType::Rsa;
  }
  if (EVP_PKEY_is_a(pkey, "EC")) {
    if (!is_p256(pkey)) throw KeyError("EC key on a curve other than P-256");
    return KeyType::EcP256;
  }
  throw KeyError("unsupported key type (only RSA and EC P-256 are accepted)");
}

Json members_of(const EVP_PKEY* pkey, KeyType type) {
  if (type == KeyType::Rsa) {
    auto n = get_bn(pkey, OSSL_PKEY_PARAM_RSA_N);
    auto e = get_bn(pkey, OSSL_PKEY_PARAM_RSA_E);
    return Json{{"e", base64url_encode(ossl::bn_bytes(e.get()))},
                {"kty", "RSA"},
                {"n", base64url_encode(ossl::bn_bytes(n.get()))}};
  }
  auto x = get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_X);
  auto y = get_bn(pkey, OSSL_PKEY_PARAM_EC_PUB_Y);
  return Json{{"crv", "P-256"},
              {"kty", "EC"},
              {"x", base64url_encode(ossl::bn_bytes(x.get(), 32))},
              {"y", base64url_encode(ossl::bn_bytes(y.get(), 32))}};
}

std::shared_ptr<const KeyMaterial> make_material(ossl::Pkey pkey, bool is_private) {
  KeyType type = classify(pkey.get());
  auto m = std::make_shared<KeyMaterial>(ossl::share(std::move(pkey)), type, is_private);
  m->members = members_of(m->pkey(), type);
  // nlohmann's object keeps keys sorted and dump() adds no whitespace: exactly RFC 7638's form.
  m->thumbprint = base64url_encode(sha256(m->members.dump()));
  return m;
}

// A public-only copy of a (private) key, through its SubjectPublicKeyInfo encoding.
ossl::Pkey public_copy(EVP_PKEY* pkey) {
  unsigned char* raw = nullptr;
  int len = i2d_PUBKEY(pkey, &raw);
  ossl::OsslBytes der(raw);
  if (len <= 0) throw KeyError(ossl::error("i2d_PUBKEY"));
  const unsigned char* p = der.get();
  ossl::Pkey pub(d2i_PUBKEY(nullptr, &p, len));
  if (!pub) throw KeyError(ossl::error("d2i_PUBKEY"));
  return pub;
}

ossl::Pkey from_params(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ossl::Deleter<OSSL_PARAM, OSSL_PARAM_free>> params(
      OSSL_PARAM_BLD_to_param(bld));
  if (!params) throw KeyError(ossl::error("OSSL_PARAM_BLD_to_param"));
  ossl::PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1 || raw == nullptr)
    throw KeyError(ossl::error(std::string("invalid ") + type + " public key"));
  ossl::Pkey pkey(raw);
  // Full public-key validation (for EC: on the curve, not the point at infinity, right order).
  ossl::PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1)
    throw KeyError(ossl::error(std::string("invalid ") + type + " public key"));
  return pkey;
}

using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, ossl::Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;

ossl::Bn bn_from(std::string_view bytes) {
  ossl::Bn bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()),
                        nullptr));
  if (!bn) throw KeyError(ossl::error("BN_bin2bn"));
  return bn;
}

void check_alg_fits(KeyType type, std::optional<Alg> alg) {
  if (alg && key_type_for(*alg) != type)
    throw KeyError(std::string("algorithm ") + std::string(to_string(*alg)) + " does not fit a " +
                   std::string(to_string(type)) + " key");
}

int no_password(char*, int, int, void*) {
  return -1;  // refuse encrypted PEM instead of prompting on a terminal
}

// JOSE ES256 signature (r || s, 32 bytes each) from OpenSSL's DER ECDSA-Sig-Value.
std::string der_to_raw(const unsigned char* der, size_t len) {
  const unsigned char* p = der;
  ossl::EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(len)));
  if (!sig) throw KeyError(ossl::error("d2i_ECDSA_SIG"));
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  return ossl::bn_bytes(r, 32) + ossl::bn_bytes(s, 32);
}

// DER ECDSA-Sig-Value from a 64-byte JOSE signature; empty when it cannot be built.
std::string raw_to_der(std::string_view raw) {
  ossl::EcdsaSig sig(ECDSA_SIG_new());
  ossl::Bn r = bn_from(raw.substr(0, 32));
  ossl::Bn s = bn_from(raw.substr(32, 32));
  if (!sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return {};
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* out = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &out);
  ossl::OsslBytes der(out);
  if (len <= 0) return {};
  return std::string(reinterpret_cast<char*>(der.get()), static_cast<size_t>(len));
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

// ---- VerifyKey ----

VerifyKey::VerifyKey(std::shared_ptr<const detail::KeyMaterial> m, std::string kid, std::optional<Alg> alg)
    : m_(std::move(m)), kid_(std::move(kid)), alg_(alg) {
  check_alg_fits(m_->type(), alg_);
  if (kid_.empty()) kid_ = m_->thumbprint;
}

VerifyKey VerifyKey::from_rsa(std::string_view n, std::string_view e, std::string kid,
                              std::optional<Alg> alg) {
  if (n.empty() || e.empty()) throw KeyError("RSA key without modulus or exponent");
  if (n.size() > kMaxRsaBits / 8 + 1) throw KeyError("RSA modulus too large");
  if (e.size() > 8) throw KeyError("RSA public exponent must be odd, at least 3 and at most 64 bits");
  auto bn_n = bn_from(n);
  auto bn_e = bn_from(e);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1)
    throw KeyError(ossl::error("OSSL_PARAM_BLD"));
  return VerifyKey(make_material(from_params("RSA", bld.get()), false), std::move(kid), alg);
}

VerifyKey VerifyKey::from_ec_p256(std::string_view x, std::string_view y, std::string kid,
                                  std::optional<Alg> alg) {
  if (x.size() != 32 || y.size() != 32) throw KeyError("P-256 coordinates must be 32 bytes each");
  std::string point;
  point.reserve(65);
  point += '\x04';  // uncompressed
  point.append(x);
  point.append(y);
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) != 1)
    throw KeyError(ossl::error("OSSL_PARAM_BLD"));
  return VerifyKey(make_material(from_params("EC", bld.get()), false), std::move(kid), alg);
}

VerifyKey VerifyKey::from_pem(std::string_view pem, std::string kid, std::optional<Alg> alg) {
  ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw KeyError(ossl::error("BIO_new_mem_buf"));
  ossl::Pkey pkey(PEM_read_bio_PUBKEY(bio.get(), nullptr, no_password, nullptr));
  if (!pkey) throw KeyError(ossl::error("not a PUBLIC KEY PEM"));
  return VerifyKey(make_material(std::move(pkey), false), std::move(kid), alg);
}

KeyType VerifyKey::type() const {
  return m_->type();
}
int VerifyKey::bits() const {
  return m_->bits();
}
Alg VerifyKey::default_alg() const {
  if (alg_) return *alg_;
  return m_->type() == KeyType::Rsa ? Alg::RS256 : Alg::ES256;
}
bool VerifyKey::allows(Alg a) const {
  return key_type_for(a) == m_->type() && (!alg_ || *alg_ == a);
}
const Json& VerifyKey::jwk_members() const {
  return m_->members;
}
const std::string& VerifyKey::thumbprint() const {
  return m_->thumbprint;
}
EVP_PKEY* VerifyKey::native() const {
  return m_->pkey();
}

VerifyKey VerifyKey::with_kid(std::string kid) const {
  return VerifyKey(m_, std::move(kid), alg_);
}
VerifyKey VerifyKey::with_alg(std::optional<Alg> alg) const {
  return VerifyKey(m_, kid_, alg);
}

std::string VerifyKey::to_pem() const {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), m_->pkey()) != 1)
    throw KeyError(ossl::error("PEM_write_bio_PUBKEY"));
  return ossl::bio_contents(bio.get());
}

bool VerifyKey::verify(Alg a, std::string_view signing_input, std::string_view signature) const {
  if (!allows(a)) return false;
  std::string der;
  if (a == Alg::ES256) {
    if (signature.size() != 64) return false;  // JOSE raw r || s only; DER is 70..72 bytes
    try {
      der = raw_to_der(signature);
    } catch (const KeyError&) {
      return false;
    }
    if (der.empty()) return false;
    signature = der;
  } else if (signature.size() != static_cast<size_t>(EVP_PKEY_get_size(m_->pkey()))) {
    return false;
  }
  try {
    std::string digest = sha256(signing_input);
    auto lease = m_->lease(a);
    int rc = EVP_PKEY_verify(lease.get(), bytes(signature), signature.size(), bytes(digest), digest.size());
    if (rc != 1) ossl::clear_errors();
    return rc == 1;
  } catch (const std::exception&) {
    ossl::clear_errors();
    return false;
  }
}

// ---- SigningKey ----

SigningKey::SigningKey(std::shared_ptr<const detail::KeyMaterial> m, Alg alg, VerifyKey pub)
    : m_(std::move(m)), alg_(alg), pub_(std::move(pub)) {}

namespace detail {
struct KeyAccess {
  static SigningKey make_signing(ossl::Pkey pkey, std::optional<Alg> alg, std::string kid) {
    auto pub = make_material(public_copy(pkey.get()), false);
    auto priv = make_material(std::move(pkey), true);
    Alg a = alg.value_or(priv->type() == KeyType::Rsa ? Alg::RS256 : Alg::ES256);
    check_alg_fits(priv->type(), a);
    return SigningKey(std::move(priv), a, VerifyKey(std::move(pub), std::move(kid), a));
  }
};
}  // namespace detail
using detail::KeyAccess;

SigningKey SigningKey::generate_rsa(int bits, Alg alg, std::string kid) {
  if (bits != 2048 && bits != 3072 && bits != 4096)
    throw KeyError("RSA signing keys are 2048, 3072 or 4096 bits");
  check_alg_fits(KeyType::Rsa, alg);
  ossl::Pkey pkey(EVP_RSA_gen(static_cast<unsigned>(bits)));
  if (!pkey) throw KeyError(ossl::error("EVP_RSA_gen"));
  return KeyAccess::make_signing(std::move(pkey), alg, std::move(kid));
}

SigningKey SigningKey::generate_ec_p256(std::string kid) {
  ossl::Pkey pkey(EVP_EC_gen(SN_X9_62_prime256v1));
  if (!pkey) throw KeyError(ossl::error("EVP_EC_gen"));
  return KeyAccess::make_signing(std::move(pkey), Alg::ES256, std::move(kid));
}

SigningKey SigningKey::from_pem(std::string_view pem, std::optional<Alg> alg, std::string kid) {
  ossl::Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw KeyError(ossl::error("BIO_new_mem_buf"));
  ossl::Pkey pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!pkey) throw KeyError(ossl::error("not an unencrypted PRIVATE KEY PEM"));
  return KeyAccess::make_signing(std::move(pkey), alg, std::move(kid));
}

std::string SigningKey::to_pem() const {
  ossl::Bio bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), m_->pkey(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw KeyError(ossl::error("PEM_write_bio_PrivateKey"));
  return ossl::bio_contents(bio.get());
}

SigningKey SigningKey::with_kid(std::string kid) const {
  return SigningKey(m_, alg_, pub_.with_kid(std::move(kid)));
}

std::string SigningKey::sign(std::string_view signing_input) const {
  std::string digest = sha256(signing_input);
  auto lease = m_->lease(alg_);
  size_t len = static_cast<size_t>(EVP_PKEY_get_size(m_->pkey()));
  std::string sig(len, '\0');
  if (EVP_PKEY_sign(lease.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(digest),
                    digest.size()) != 1)
    throw KeyError(ossl::error("EVP_PKEY_sign"));
  if (alg_ == Alg::ES256) return der_to_raw(reinterpret_cast<const unsigned char*>(sig.data()), len);
  sig.resize(len);
  return sig;
}

}  // namespace dive::identity
