#pragma once
// A throwaway PKI for TLS tests, generated with OpenSSL's EVP/X509 APIs: a CA and ECDSA P-256 server
// certificates, written as PEM files into a temporary directory.
#include <memory>
#include <string>

#include "common/fs.hpp"

namespace dive::net::testing {

struct TestPki {
  std::unique_ptr<TempDir> dir;
  std::string ca_file;                          // the trusted CA
  std::string cert_file, key_file;              // SAN localhost, 127.0.0.1, ::1; chain = leaf + CA
  std::string other_host_cert, other_host_key;  // signed by the CA, SAN DNS:other.example only
  std::string untrusted_cert, untrusted_key;    // SAN localhost/127.0.0.1 but signed by a different CA
};

// Generates everything once per process (key generation is the slow part) and returns it.
const TestPki& test_pki();

}  // namespace dive::net::testing
