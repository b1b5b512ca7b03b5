#include "services/pdp/pdp_api.hpp"

#include <chrono>

#include "audit/event.hpp"
#include "common/clock.hpp"
#include "common/encoding.hpp"
#include "common/mutex.hpp"
#include "metrics/registry.hpp"
#include "net/router.hpp"
#include "policy/opa_api.hpp"

namespace dive::services::pdp {

namespace {
const std::vector<double>& latency_buckets() {
  static const std::vector<double> b{0.000002, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                     0.0005,   0.001,    0.0025,  0.005,    0.01,    0.05};
  return b;
}

net::Response json_text(int status, std::string body) {
  net::Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.set("Content-Type", "application/json");
  return r;
}

int64_t micros_since(SteadyTime t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

PdpApi::PdpApi(policy::BundleHolder& holder, policy::DecisionLog* log, metrics::Registry& registry)
    : holder_(holder), log_(log), registry_(registry) {
  auto& evals =
      registry.counter("dive_v3_policy_evaluations_total", "Policy decisions by result", {"result"});
  allow_ = &evals.labels({"allow"});
  deny_ = &evals.labels({"deny"});
  error_ = &evals.labels({"error"});
  latency_ = &registry
                  .histogram("dive_v3_policy_evaluation_latency_seconds",
                             "Time to evaluate one request (parse, decide, render)", {}, latency_buckets())
                  .unlabelled();
  loads_ = &registry.counter("dive_v3_policy_bundle_loads_total", "Data bundle load attempts by result",
                             {"result"});
  for (const char* r : {"ok", "rejected"}) loads_->labels({r});  // at 0 from the start
  revision_info_ = &registry.gauge("dive_v3_policy_bundle_info",
                                   "The active data bundle revision (1 = active)", {"revision"});
  loaded_ = &registry.gauge("dive_v3_policy_bundle_loaded", "1 while a data bundle is active").unlabelled();
  builtin_ = &registry
                  .gauge("dive_v3_policy_bundle_builtin",
                         "1 while the pdp decides with its built-in tables (no bundle from its database yet)")
                  .unlabelled();
  last_check_ = &registry
                     .gauge("dive_v3_policy_bundle_last_check_timestamp_seconds",
                            "When the pdp last read its database's active bundle revision (Unix seconds)")
                     .unlabelled();
  if (log_) {
    auto& dropped = registry
                        .counter("dive_v3_policy_decision_log_dropped_total",
                                 "Decision log records dropped because the queue was full")
                        .unlabelled();
    auto& queued =
        registry.gauge("dive_v3_policy_decision_log_queue", "Decision log records waiting to be written")
            .unlabelled();
    auto& errors =
        registry.counter("dive_v3_policy_decision_log_write_errors_total", "Failed decision log batch writes")
            .unlabelled();
    // The log keeps running totals; the counters follow them (never backwards).
    registry.add_collector([this, &dropped, &queued, &errors] {
      auto s = log_->stats();
      queued.set(static_cast<double>(s.queued));
      if (double d = static_cast<double>(s.dropped) - dropped.value(); d > 0) dropped.inc(d);
      if (double e = static_cast<double>(s.write_errors) - errors.value(); e > 0) errors.inc(e);
    });
  }
  publish_bundle();
}

void PdpApi::bundle_source(const std::string& source) {
  builtin_->set(source == "built-in" ? 1.0 : 0.0);
}

void PdpApi::bundle_checked(SystemTime at) {
  last_check_->set(std::chrono::duration<double>(at.time_since_epoch()).count());
}

void PdpApi::bundle_loaded(bool ok) {
  loads_->labels({ok ? "ok" : "rejected"}).inc();
  publish_bundle();
}

void PdpApi::publish_bundle() {
  loaded_->set(holder_.current() != nullptr ? 1.0 : 0.0);
  MutexLock lock(revision_mu_);
  std::string rev = holder_.revision();
  if (rev == shown_revision_) return;
  if (!shown_revision_.empty()) revision_info_->labels({shown_revision_}).set(0);
  if (!rev.empty()) revision_info_->labels({rev}).set(1);
  shown_revision_ = rev;
}

net::Response PdpApi::error(int status, const std::string& code, const std::string&, const std::string&) {
  // OPA's codes; the message is fixed per code so nothing of the request is echoed back.
  std::string opa = status == 404   ? "resource_not_found"
                    : status >= 500 ? "internal_error"
                    : status == 405 ? "method_not_allowed"
                                    : "invalid_parameter";
  std::string message = code == "payload_too_large" ? "request body too large (the limit is 1 MiB)"
                        : status == 404             ? "no such path"
                        : status == 405             ? "method not allowed on this path"
                        : status >= 500             ? "internal error"
                                                    : "malformed request";
  return json_text(status, policy::error_body(message).dump());
}

void PdpApi::log(const net::Request& req, const std::string& request_id, const char* query,
                 const std::string& input_hash, bool allow, const std::string& reason, int64_t latency_us,
                 const std::string& revision) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  if (audit_) {
    // Who asked about what is in the enforcement point's record with the same request id (the pdp decides
    // on an input; it authenticates no user): here the decision, its input's hash and the bundle revision.
    audit::Event e;
    e.at_ms = now_ms;
    e.type = "policy.decision";
    e.source_ip = req.remote_ip;
    e.outcome = allow ? audit::kAllow : audit::kDeny;
    e.reason = reason;
    e.request_id = request_id;
    e.details = audit::details(Json{{"query", query},
                                    {"inputSha256", input_hash},
                                    {"bundleRevision", revision},
                                    {"latencyUs", latency_us}});
    audit_->record(std::move(e));
  }
  if (!log_) return;
  policy::DecisionRecord r;
  r.decided_at_ms = now_ms;
  r.request_id = request_id;
  r.query = query;
  r.input_hash = input_hash;
  r.allow = allow;
  r.reason = reason;
  r.latency_us = latency_us;
  r.bundle_revision = revision;
  log_->record(std::move(r));
}

net::Response PdpApi::decide(net::Request& req, int q) {
  auto t0 = std::chrono::steady_clock::now();
  auto bundle = holder_.current();
  if (!bundle) {
    error_->inc();
    return json_text(500, policy::error_body("no policy data bundle is loaded").dump());
  }
  auto query = static_cast<policy::Query>(q);
  try {
    auto a = policy::answer(query, req.body, *bundle);
    auto us = micros_since(t0);
    latency_->observe(static_cast<double>(us) / 1e6);
    (a.allow ? allow_ : deny_)->inc();
    static const char* names[] = {"decision", "allow", "reason"};
    if (log_ || audit_)
      log(req, req.request_id, names[q], sha256_hex(req.body), a.allow, a.reason, us, bundle->revision);
    auto resp = json_text(200, std::move(a.body));
    resp.headers.set("X-Dive-Policy-Revision", bundle->revision);  // decision caches key on it
    return resp;
  } catch (const policy::InvalidInput& e) {
    error_->inc();
    return json_text(400, policy::error_body(e.what()).dump());
  }
}

net::Response PdpApi::batch(net::Request& req) {
  auto t0 = std::chrono::steady_clock::now();
  auto bundle = holder_.current();
  if (!bundle) {
    error_->inc();
    return json_text(500, policy::error_body("no policy data bundle is loaded").dump());
  }
  try {
    auto a = policy::answer_batch(req.body, *bundle);
    auto us = micros_since(t0);
    latency_->observe(static_cast<double>(us) / 1e6);
    allow_->inc(static_cast<double>(a.stats.allowed));
    deny_->inc(static_cast<double>(a.stats.denied));
    error_->inc(static_cast<double>(a.stats.rejected));
    if (log_ || audit_) {
      std::string hash = sha256_hex(req.body);
      int64_t per = a.items.empty() ? 0 : us / static_cast<int64_t>(a.items.size());
      for (const auto& item : a.items) {
        if (item.rejected) continue;
        log(req, req.request_id + "#" + item.id, "batch", hash, item.allow, item.reason, per,
            bundle->revision);
      }
    }
    auto resp = json_text(a.stats.partial() ? 207 : 200, std::move(a.body));
    resp.headers.set("X-Dive-Policy-Revision", bundle->revision);
    return resp;
  } catch (const policy::InvalidInput& e) {
    error_->inc();
    return json_text(400, policy::error_body(e.what()).dump());
  }
}

void PdpApi::add_routes(net::Router& router) {
  for (const char* pkg : {"authz", "authorization"}) {
    std::string base = std::string("/v1/data/dive/") + pkg + "/";
    router.add(
        "POST", base + "decision", [this](net::Request& r) { return decide(r, 0); }, net::Exec::Inline);
    router.add(
        "POST", base + "allow", [this](net::Request& r) { return decide(r, 1); }, net::Exec::Inline);
    router.add(
        "POST", base + "reason", [this](net::Request& r) { return decide(r, 2); }, net::Exec::Inline);
    router.add(
        "POST", std::string("/v1/batch/data/dive/") + pkg + "/decision",
        [this](net::Request& r) { return batch(r); }, net::Exec::Inline);
  }
  router.add(
      "GET", std::string(policy::kPolicyVersionPath),
      [this](net::Request&) {
        auto b = holder_.current();
        return json_text(200, policy::policy_version(b.get()).dump());
      },
      net::Exec::Inline);
  // OPA's health: 200 {} with a bundle loaded, 500 otherwise.
  router.add(
      "GET", "/health",
      [this](net::Request&) {
        if (holder_.current()) return json_text(200, "{}");
        return json_text(500, policy::error_body("no policy data bundle is loaded").dump());
      },
      net::Exec::Inline);
}

}  // namespace dive::services::pdp
