#pragma once
// The checks behind `verify` and the pipeline's VERIFYING step: processes, TLS health of every service,
// metrics, database, Redis (and that it refuses unauthenticated clients), the shared blacklist (hub),
// and the certificate.
#include <string>
#include <vector>

#include "common/json.hpp"
#include "orchestrator/layout.hpp"

namespace dive::orch {

struct VerifyCheck {
  std::string name;
  bool ok = false;
  bool warning = false;  // passed, but needs attention (e.g. certificate expiring within 30 days)
  std::string detail;
};

struct VerifyReport {
  std::string code;
  std::vector<VerifyCheck> checks;
  bool ok() const;
  int passed() const;
  Json to_json() const;
};

VerifyReport verify_instance(const Layout& layout, const std::string& code);

}  // namespace dive::orch
