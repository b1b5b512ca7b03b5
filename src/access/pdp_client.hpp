#pragma once
// The PDP over HTTPS, through its circuit breaker and with a deadline per call (docs/DOCUMENTS.md).
#include <string>
#include <vector>

#include "access/decision.hpp"
#include "common/clock.hpp"
#include "net/https_client.hpp"
#include "resilience/circuit_breaker.hpp"

namespace dive::access {

// Thread-safe: fixed after construction; the transport and the breaker are thread-safe.
class PdpClient {
 public:
  // base_url: "https://localhost:9181". The transport and breaker must outlive the client.
  PdpClient(net::HttpTransport& http, resilience::CircuitBreaker& breaker, std::string base_url,
            Millis timeout = Millis(2000));

  // Throws PdpUnavailable. A non-200 answer, or one without a result, is a failure of the PDP. The decision
  // carries the bundle revision the pdp decided with (its X-Dive-Policy-Revision header).
  Decision decide(const Json& input);
  // One batch request (≤ 1,000 inputs); the answers in input order. Throws PdpUnavailable.
  std::vector<Decision> decide_batch(const std::vector<Json>& inputs);

 private:
  // The answer's JSON; `revision` gets its X-Dive-Policy-Revision (the pdp's bundle revision).
  Json post(const std::string& path, const std::string& body, std::string* revision = nullptr,
            const std::string& request_id = "");

  net::HttpTransport& http_;
  resilience::CircuitBreaker& breaker_;
  std::string base_;
  Millis timeout_;
};

// {"allow", "reason", "obligations", "evaluation_details"} → Decision; throws PdpUnavailable when malformed.
Decision decision_from_result(const Json& result);

}  // namespace dive::access
