#include "test_pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <stdexcept>
#include <vector>

namespace dive::net::testing {

namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what + " failed");
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "X509V3_EXT_nconf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, const char* san,
               long serial) {
  Cert x(X509_new());
  check(x != nullptr, "X509_new");
  X509_set_version(x.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), 7L * 24 * 3600);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* iss = issuer ? issuer : x.get();
  X509_set_issuer_name(x.get(), X509_get_subject_name(iss));
  add_ext(x.get(), iss, NID_subject_key_identifier, "hash");
  if (!issuer) {
    add_ext(x.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(x.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add_ext(x.get(), iss, NID_authority_key_identifier, "keyid:always");
    add_ext(x.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(x.get(), iss, NID_key_usage, "critical,digitalSignature");
    add_ext(x.get(), iss, NID_ext_key_usage, "serverAuth");
    add_ext(x.get(), iss, NID_subject_alt_name, san);
  }
  check(X509_sign(x.get(), issuer ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return x;
}

void write_pem(const std::string& path, const std::vector<X509*>& certs) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "w"));
  check(bio != nullptr, "BIO_new_file");
  for (X509* c : certs) check(PEM_write_bio_X509(bio.get(), c) == 1, "PEM_write_bio_X509");
}

void write_key(const std::string& path, EVP_PKEY* key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "w"));
  check(bio != nullptr, "BIO_new_file");
  check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
}

Key p256() {
  Key k(EVP_EC_gen("P-256"));
  check(k != nullptr, "EVP_EC_gen");
  return k;
}

TestPki generate() {
  TestPki p;
  p.dir = std::make_unique<TempDir>("dive-net-pki");
  auto at = [&](const char* f) { return (p.dir->path() / f).string(); };

  Key ca_key = p256();
  Cert ca = make_cert(ca_key.get(), "DIVE test CA", nullptr, nullptr, nullptr, 1);
  p.ca_file = at("ca.pem");
  write_pem(p.ca_file, {ca.get()});

  Key leaf_key = p256();
  Cert leaf =
      make_cert(leaf_key.get(), "localhost", ca.get(), ca_key.get(), "DNS:localhost,IP:127.0.0.1,IP:::1", 2);
  p.cert_file = at("server.pem");
  p.key_file = at("server-key.pem");
  write_pem(p.cert_file, {leaf.get(), ca.get()});
  write_key(p.key_file, leaf_key.get());

  Key other_key = p256();
  Cert other = make_cert(other_key.get(), "other.example", ca.get(), ca_key.get(), "DNS:other.example", 3);
  p.other_host_cert = at("other.pem");
  p.other_host_key = at("other-key.pem");
  write_pem(p.other_host_cert, {other.get(), ca.get()});
  write_key(p.other_host_key, other_key.get());

  Key rogue_ca_key = p256();
  Cert rogue_ca = make_cert(rogue_ca_key.get(), "Rogue CA", nullptr, nullptr, nullptr, 4);
  Key untrusted_key = p256();
  Cert untrusted = make_cert(untrusted_key.get(), "localhost", rogue_ca.get(), rogue_ca_key.get(),
                             "DNS:localhost,IP:127.0.0.1,IP:::1", 5);
  p.untrusted_cert = at("untrusted.pem");
  p.untrusted_key = at("untrusted-key.pem");
  write_pem(p.untrusted_cert, {untrusted.get(), rogue_ca.get()});
  write_key(p.untrusted_key, untrusted_key.get());
  return p;
}

}  // namespace

const TestPki& test_pki() {
  static const TestPki pki = generate();
  return pki;
}

}  // namespace dive::net::testing
