#pragma once
// TLS contexts for the server and the client (internal: includes Asio's SSL headers; only the server and
// client .cpp files include it).
#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>

namespace dive::net::detail {

// TLS 1.2+ server context with the PEM certificate chain and private key (ECDSA P-256 from mkcert, RSA also
// works), forward-secret AEAD ciphers only, a server-side session cache and session tickets for resumption.
// Throws std::runtime_error naming the file when the certificate or key cannot be loaded.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                                   const std::string& key_file);

// TLS 1.2+ client context. With verify, peers are checked against ca_file (or the system store when empty);
// hostname checks are set per connection by configure_client_ssl.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(const std::string& ca_file, bool verify);

// Sets SNI (for DNS names) and, with verify, hostname or IP-address verification on one connection.
// Returns false when OpenSSL refuses the name.
bool configure_client_ssl(SSL* ssl, const std::string& host, bool verify);

// A readable reason for a failed handshake, including the certificate verification result when relevant.
std::string tls_error_text(const boost::system::error_code& ec, SSL* ssl);

// True when `host` is an IPv4 or IPv6 literal (without brackets).
bool is_ip_literal(const std::string& host);

}  // namespace dive::net::detail
