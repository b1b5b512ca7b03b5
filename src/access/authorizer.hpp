#pragma once
// The PEP's decision step (docs/DOCUMENTS.md): an unexpired cached decision for the identical input, else
// the PDP (through its breaker). The cache is the one it is given: a NullDecisionCache asks the PDP every
// time. Fail closed: when the PDP cannot answer and nothing unexpired is cached,
// PdpUnavailable — never a weaker local rule.
// Metrics: dive_v3_authorization_decisions_total{decision}, dive_v3_authorization_latency_seconds{cached},
// dive_v3_decision_cache_hits_total, dive_v3_decision_cache_misses_total, dive_v3_decision_cache_size.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "access/decision_cache.hpp"
#include "access/pdp_client.hpp"

namespace dive::metrics {
class Registry;
class Counter;
class Histogram;
}  // namespace dive::metrics

namespace dive::access {

struct Authorization {
  std::shared_ptr<const Decision> decision;  // never null in a returned Authorization
  bool cached = false;
};

// Thread-safe: every request thread authorizes through one Authorizer; it keeps no mutable state of its
// own (the PDP client, the decision cache and the metrics are thread-safe).
class Authorizer {
 public:
  Authorizer(PdpClient& pdp, DecisionCache& cache, metrics::Registry* registry = nullptr);

  // `classification` of the resource picks the cache TTL. Throws PdpUnavailable.
  Authorization authorize(const Json& input, const std::string& classification);
  // One PDP batch call for the inputs not answered by the cache. Throws PdpUnavailable when any input
  // has no decision.
  std::vector<Authorization> authorize_batch(const std::vector<Json>& inputs,
                                             const std::vector<std::string>& classifications);

  // The same for callers that know each input's key (DecisionKey::Builder: the key of the input it builds)
  // and build an input only when the cache cannot answer it.
  Authorization authorize(const DecisionKey& key, const std::string& classification,
                          const std::function<Json()>& input);
  std::vector<Authorization> authorize_batch(const std::vector<DecisionKey>& keys,
                                             const std::vector<std::string>& classifications,
                                             const std::function<Json(size_t)>& input);

 private:
  void count(const Decision& d, bool cached, double seconds);

  PdpClient& pdp_;
  DecisionCache& cache_;
  metrics::Counter *m_allow_ = nullptr, *m_deny_ = nullptr, *m_hits_ = nullptr, *m_misses_ = nullptr;
  metrics::Histogram *m_lat_cached_ = nullptr, *m_lat_pdp_ = nullptr;
};

}  // namespace dive::access
