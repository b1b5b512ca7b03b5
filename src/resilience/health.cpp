#include "resilience/health.hpp"

#include <memory>
#include <thread>

#include "common/mutex.hpp"
#include "metrics/registry.hpp"

namespace dive::resilience {

const char* to_string(Health h) {
  switch (h) {
    case Health::Healthy:
      return "healthy";
    case Health::Degraded:
      return "degraded";
    case Health::Unhealthy:
      return "unhealthy";
  }
  return "unknown";
}

HealthReport aggregate(std::vector<CheckOutcome> outcomes, const std::vector<std::string>& extra) {
  HealthReport r;
  bool unhealthy = false;
  std::vector<std::string> reasons;
  for (const auto& c : outcomes) {
    if (!c.up && c.impact == Impact::Critical) {
      unhealthy = true;
      reasons.push_back(c.name + " is down");
    } else if (!c.up) {
      reasons.push_back(c.name + " is down");
    } else if (c.slow) {
      reasons.push_back(c.name + " is slow (" + std::to_string(c.latency.count()) + " ms)");
    }
  }
  for (const auto& e : extra) reasons.push_back(e);
  r.status = unhealthy ? Health::Unhealthy : (reasons.empty() ? Health::Healthy : Health::Degraded);
  r.checks = std::move(outcomes);
  r.degraded_reasons = std::move(reasons);
  return r;
}

Json HealthReport::to_json() const {
  Json checks_json = Json::object();
  for (const auto& c : checks) {
    Json j = {{"status", c.up ? (c.slow ? "slow" : "up") : "down"},
              {"critical", c.impact == Impact::Critical},
              {"latencyMs", c.latency.count()}};
    if (!c.error.empty()) j["error"] = c.error;
    if (!c.details.empty()) j["details"] = c.details;
    checks_json[c.name] = std::move(j);
  }
  return Json{{"status", to_string(status)}, {"checks", checks_json}, {"reasons", degraded_reasons}};
}

HealthMetrics::HealthMetrics(metrics::Registry& registry)
    : status_(&registry
                   .gauge("dive_v3_health_status",
                          "Health of this service as /health reports it: 0 healthy, 1 degraded, 2 unhealthy")
                   .unlabelled()),
      checks_(&registry.gauge("dive_v3_health_check_up", "1 when this health check passed, 0 when it failed",
                              {"check"})) {}

void HealthMetrics::publish(const HealthReport& report) {
  status_->set(report.status == Health::Healthy ? 0.0 : report.status == Health::Degraded ? 1.0 : 2.0);
  for (const auto& c : report.checks) checks_->labels({c.name}).set(c.up ? 1.0 : 0.0);
}

std::vector<CheckOutcome> run_checks(const std::vector<CheckSpec>& specs) {
  // One probe's answer: written by its thread, read by this one.
  struct Slot {
    Mutex mu;
    CondVar cv;
    bool done GUARDED_BY(mu) = false;
    CheckResult result GUARDED_BY(mu);
    Millis latency GUARDED_BY(mu) = Millis{0};
  };
  std::vector<std::shared_ptr<Slot>> slots;
  slots.reserve(specs.size());
  auto start = std::chrono::steady_clock::now();
  for (const auto& spec : specs) {
    auto slot = std::make_shared<Slot>();
    slots.push_back(slot);
    // Detached: a probe stuck past its deadline must not hold the report; it owns its slot.
    std::thread([slot, probe = spec.probe, start] {
      CheckResult res;
      try {
        res = probe();
      } catch (const std::exception& e) {
        res.up = false;
        res.error = e.what();
      }
      MutexLock lock(slot->mu);
      slot->result = std::move(res);
      slot->latency = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
      slot->done = true;
      slot->cv.notify_all();
    }).detach();
  }
  std::vector<CheckOutcome> out;
  out.reserve(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& spec = specs[i];
    auto& slot = *slots[i];
    CheckOutcome o;
    o.name = spec.name;
    o.impact = spec.impact;
    MutexLock lock(slot.mu);
    auto deadline = start + spec.timeout;
    if (!slot.cv.wait_until(slot.mu, deadline, [&]() REQUIRES(slot.mu) { return slot.done; })) {
      o.up = false;
      o.timed_out = true;
      o.latency = spec.timeout;
      o.error = "no answer within " + std::to_string(spec.timeout.count()) + " ms";
    } else {
      o.up = slot.result.up;
      o.error = slot.result.error;
      o.details = slot.result.details;
      o.latency = slot.latency;
      o.slow = o.up && o.latency > spec.slow_after;
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace dive::resilience
