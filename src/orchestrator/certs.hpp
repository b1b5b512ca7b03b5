#pragma once
// Certificates from mkcert with CAROOT=$DIVE_HOME/ca (ECDSA P-256): one server certificate per
// instance, the CA copied into every instance's certs/, and verification (chain, SANs, expiry).
#include <string>
#include <vector>

#include "common/json.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

// localhost, 127.0.0.1, ::1, <code>.dive.local, dive-<code>-{api,idp,pdp,kas} (code lower-case), and the
// instance's host and bind address when they are others (from its instance.json, when deployed).
std::vector<std::string> instance_sans(const std::string& code);
std::vector<std::string> instance_sans(const Layout& layout, const std::string& code);

// Runs mkcert for the instance (creating the CA on first use). Skips when a valid certificate with every
// SAN exists and `force` is false. Also copies the CA certificate into the instance's certs/. Returns true
// when a certificate was (re)generated.
bool generate_instance_cert(const Layout& layout, const std::string& code, bool force);

// The same for any set of paths with a certs/ dir (the monitoring stack's): cert_file, key_file, ca_file.
bool generate_cert_at(const Layout& layout, const InstancePaths& paths, const std::vector<std::string>& sans,
                      bool force);

// Copies the CA certificate (never its key) into every deployed instance's certs/. Returns the codes.
std::vector<std::string> sync_ca(const Layout& layout);

struct CertReport {
  std::string code;
  bool present = false;
  bool chain_ok = false;    // signed by our CA
  bool ca_copy_ok = false;  // the instance's rootCA.pem is our CA
  std::vector<std::string> sans;
  std::vector<std::string> missing_sans;
  long days_left = 0;
  std::string not_after;  // ISO 8601
  std::string error;
  bool ok() const { return present && chain_ok && ca_copy_ok && missing_sans.empty() && days_left > 0; }
  Json to_json() const;
};
CertReport verify_instance_cert(const Layout& layout, const std::string& code);
CertReport verify_cert_at(const Layout& layout, const InstancePaths& paths,
                          const std::vector<std::string>& sans);

}  // namespace dive::orch
