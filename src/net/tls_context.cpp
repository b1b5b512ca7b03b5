#include "net/tls_context.hpp"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace dive::net::detail {

namespace ssl = boost::asio::ssl;

namespace {
// Forward secrecy and AEAD only for TLS 1.2; TLS 1.3 suites are OpenSSL's defaults (all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

std::string openssl_reason() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

void common_setup(SSL_CTX* ctx) {
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1)
    throw std::runtime_error("cannot set TLS cipher list: " + openssl_reason());
}
}  // namespace

std::shared_ptr<ssl::context> make_server_tls_context(const std::string& cert_file,
                                                      const std::string& key_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* c = ctx->native_handle();
  common_setup(c);
  SSL_CTX_set_options(c, SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(c, cert_file.c_str()) != 1)
    throw std::runtime_error("cannot load TLS certificate " + cert_file + ": " + openssl_reason());
  if (SSL_CTX_use_PrivateKey_file(c, key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    throw std::runtime_error("cannot load TLS private key " + key_file + ": " + openssl_reason());
  if (SSL_CTX_check_private_key(c) != 1)
    throw std::runtime_error("TLS private key " + key_file + " does not match certificate " + cert_file);
  // Resumption: a session-id cache for TLS 1.2 clients that do not send tickets, and tickets (on by default).
  static const unsigned char kSidCtx[] = "dive";
  SSL_CTX_set_session_id_context(c, kSidCtx, sizeof kSidCtx - 1);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
  SSL_CTX_sess_set_cache_size(c, 20000);
  SSL_CTX_set_timeout(c, 3600);
  return ctx;
}

std::shared_ptr<ssl::context> make_client_tls_context(const std::string& ca_file, bool verify) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX* c = ctx->native_handle();
  common_setup(c);
  if (verify) {
    if (!ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(c, ca_file.c_str(), nullptr) != 1)
        throw std::runtime_error("cannot load CA bundle " + ca_file + ": " + openssl_reason());
    } else if (SSL_CTX_set_default_verify_paths(c) != 1) {
      throw std::runtime_error("cannot load the system CA store: " + openssl_reason());
    }
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
  }
  // Sessions are cached by the client itself per (host, port); OpenSSL's internal client cache is unused.
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  return ctx;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

bool configure_client_ssl(SSL* ssl, const std::string& host, bool verify) {
  bool ip = is_ip_literal(host);
  if (!ip && SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) return false;  // SNI only for DNS names
  if (!verify) return true;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (ip) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  return X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
}

std::string tls_error_text(const boost::system::error_code& ec, SSL* ssl) {
  std::string out = ec.message();
  if (ssl) {
    long v = SSL_get_verify_result(ssl);
    if (v != X509_V_OK) out += std::string(" (") + X509_verify_cert_error_string(v) + ")";
  }
  return out;
}

}  // namespace dive::net::detail
