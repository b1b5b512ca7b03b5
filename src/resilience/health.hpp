#pragma once
// Health model: named dependency checks run in parallel under a deadline, aggregated by impact.
// A dependency marked Critical makes the whole report unhealthy when down; an Important one (or a slow
// check, or an extra degradation such as an open breaker) makes it degraded.
#include <functional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"

namespace dive::metrics {
class Gauge;
class Registry;
template <class M>
class Family;
}  // namespace dive::metrics

namespace dive::resilience {

enum class Health { Healthy, Degraded, Unhealthy };
const char* to_string(Health h);  // "healthy", "degraded", "unhealthy"

enum class Impact { Critical, Important };

struct CheckResult {
  bool up = false;
  std::string error;  // why it is down (never secrets)
  Json details = Json::object();
};

struct CheckSpec {
  std::string name;
  Impact impact = Impact::Important;
  std::function<CheckResult()> probe;
  Millis timeout{2000};
  Millis slow_after{1000};
};

struct CheckOutcome {
  std::string name;
  Impact impact = Impact::Important;
  bool up = false;
  bool slow = false;
  bool timed_out = false;
  Millis latency{0};
  std::string error;
  Json details = Json::object();
};

struct HealthReport {
  Health status = Health::Healthy;
  std::vector<CheckOutcome> checks;
  std::vector<std::string> degraded_reasons;  // why the status is not healthy
  Json to_json() const;                       // {status, checks:{name:{status, latencyMs, ...}}, reasons}
};

// Pure aggregation (docs/RESILIENCE.md): unhealthy when a Critical check is down; degraded when an
// Important check is down, any check is slow, or `extra_degradations` is non-empty; otherwise healthy.
HealthReport aggregate(std::vector<CheckOutcome> outcomes,
                       const std::vector<std::string>& extra_degradations = {});

// The verdict as metrics, for alerting: dive_v3_health_status (0 healthy, 1 degraded, 2 unhealthy) and
// dive_v3_health_check_up{check} (1 when the check passed). Thread-safe (the gauges are atomic).
class HealthMetrics {
 public:
  explicit HealthMetrics(metrics::Registry& registry);
  void publish(const HealthReport& report);

 private:
  metrics::Gauge* status_;
  metrics::Family<metrics::Gauge>* checks_;
};

// Runs every probe on its own thread; a probe that misses its timeout is reported down ("timeout").
// The call returns within max(timeout) plus a little, whatever the probes do. Latency is real time.
std::vector<CheckOutcome> run_checks(const std::vector<CheckSpec>& specs);

}  // namespace dive::resilience
