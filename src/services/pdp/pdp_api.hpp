#pragma once
// The pdp's HTTP API (docs/POLICY.md "The service", OPA Data API compatible), shared by the instance service
// and the standalone mode: decision / allow / reason (both package names), batch, policy_version, OPA-style
// /health, with metrics and the decision log.
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "common/mutex.hpp"
#include "net/http.hpp"
#include "net/router.hpp"
#include "policy/bundle_holder.hpp"
#include "policy/decision_log.hpp"

namespace dive::audit {
class Recorder;
}
namespace dive::metrics {
class Registry;
class Counter;
class Histogram;
class Gauge;
template <class M>
class Family;
}  // namespace dive::metrics

namespace dive::services::pdp {

// Thread-safe once serving: request threads decide (the bundle holder and the metrics are lock-free, the
// decision log and the audit sink lock themselves) while the bundle sync reports loads; revision_mu_ guards
// the revision shown in dive_v3_policy_bundle_info. set_audit() and add_routes() come before serving.
class PdpApi {
 public:
  // `log` may be null (no decision log).
  PdpApi(policy::BundleHolder& holder, policy::DecisionLog* log, metrics::Registry& registry);
  // Every decision also becomes an audit record (policy.decision) through `recorder` (the instance's
  // service: its audit sink; null: none). Call before serving.
  void set_audit(audit::Recorder* recorder) { audit_ = recorder; }
  void add_routes(net::Router& router);
  // The server's own errors in OPA's shape {"code","message"} (for ServerConfig::error_response).
  static net::Response error(int status, const std::string& code, const std::string& message,
                             const std::string& request_id);
  // Records a bundle load attempt (metrics: loads by result, whether a bundle is active, its revision).
  void bundle_loaded(bool ok);
  // Where the active bundle came from ("built-in", "cache", "database (...)"): dive_v3_policy_bundle_builtin.
  void bundle_source(const std::string& source);
  // A successful look at the database's active revision: dive_v3_policy_bundle_last_check_timestamp_seconds.
  void bundle_checked(SystemTime at);

 private:
  void publish_bundle();  // dive_v3_policy_bundle_loaded and _info from the holder
  net::Response decide(net::Request& req, int query);
  net::Response batch(net::Request& req);
  void log(const net::Request& req, const std::string& request_id, const char* query,
           const std::string& input_hash, bool allow, const std::string& reason, int64_t latency_us,
           const std::string& revision);

  policy::BundleHolder& holder_;
  policy::DecisionLog* log_;
  audit::Recorder* audit_ = nullptr;
  metrics::Registry& registry_;
  metrics::Counter *allow_, *deny_, *error_;
  metrics::Histogram* latency_;
  metrics::Family<metrics::Counter>* loads_;
  metrics::Family<metrics::Gauge>* revision_info_;
  metrics::Gauge *loaded_, *builtin_, *last_check_;
  Mutex revision_mu_;
  std::string shown_revision_ GUARDED_BY(revision_mu_);
};

}  // namespace dive::services::pdp
