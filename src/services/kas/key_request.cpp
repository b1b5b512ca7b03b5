#include "services/kas/key_request.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>

#include "access/key_release.hpp"
#include "audit/event.hpp"
#include "common/periodic.hpp"
#include "documents/kas_key_cache.hpp"
#include "documents/kas_key_reader.hpp"
#include "metrics/registry.hpp"
#include "services/runtime/audit_events.hpp"
#include "services/runtime/authenticator.hpp"
#include "services/runtime/outcomes.hpp"
#include "services/runtime/service_context.hpp"
#include "services/runtime/token_auth.hpp"
#include "store/pg_pool.hpp"

namespace dive::services {

namespace {

struct KasParts {
  std::unique_ptr<documents::KasKeyCache> keys;
  std::unique_ptr<documents::KasKeyReader> reader;
  std::unique_ptr<access::PdpClient> pdp;
  access::NullDecisionCache no_cache;  // no key without a fresh decision
  std::unique_ptr<access::Authorizer> authorizer;
  std::unique_ptr<access::KeyRelease> release;
  std::unique_ptr<Periodic> refresher;  // last: stops first
};

// The kas's parts, wired: the key cache and its reader, the PDP client and authorizer (no decision
// cache), the key release, and the refresher that keeps the keys current.
std::shared_ptr<KasParts> make_kas_parts(ServiceContext& ctx) {
  auto parts = std::make_shared<KasParts>();
  parts->keys = std::make_unique<documents::KasKeyCache>(
      documents::decode_key_encryption_key(ctx.secrets().value("kas_key_encryption_key", "")));
  parts->pdp =
      std::make_unique<access::PdpClient>(ctx.http(), ctx.breaker(Breaker::Pdp), ctx.settings().urls.pdp);
  parts->authorizer = std::make_unique<access::Authorizer>(*parts->pdp, parts->no_cache, &ctx.registry());
  // Keys: loaded now (creating the first pair if needed), retried until loaded, then re-read periodically so
  // a rotation needs no restart; an unknown kid re-reads them at once (documents/kas_key_reader.hpp).
  parts->reader =
      std::make_unique<documents::KasKeyReader>(*parts->keys, [c = &ctx](documents::KasKeyCache& k) {
        c->db().with([&](pqxx::connection& conn) {
          k.refresh(conn);
          return 0;
        });
      });
  documents::KasKeyReader* reader = parts->reader.get();
  parts->release = std::make_unique<access::KeyRelease>(
      [reader](const std::string& kid) { return reader->private_key(kid); }, *parts->authorizer, ctx.code());
  parts->refresher = std::make_unique<Periodic>(
      reader->timing().retry_every, [reader] { reader->refresh_if_due(); },
      [](const std::string& e) { spdlog::warn("kas keys: refresh failed: {}", e); }, true);
  return parts;
}

// The kas's metrics of key requests, registered once.
struct KasMetrics {
  metrics::Family<metrics::Counter>& releases;
  metrics::Histogram& latency;
  metrics::Counter& integrity;

  explicit KasMetrics(metrics::Registry& registry)
      : releases(registry.counter("dive_v3_kas_key_releases_total",
                                  "Key requests by outcome (granted, denied, invalid, integrity, "
                                  "unavailable)",
                                  {"decision"})),
        latency(registry.histogram("dive_v3_kas_request_latency_seconds", "Time to answer POST /request-key")
                    .unlabelled()),
        integrity(registry
                      .counter("dive_v3_kas_integrity_failures_total",
                               "Key requests whose policy binding or wrapped key did not verify")
                      .unlabelled()) {
    for (const char* d : {"granted", "denied", "invalid", "integrity", "unavailable"})
      releases.labels({d});  // at 0 from the start, so that rates and increase() see the first one
  }
};

// The audit record of a key request: who, what, decision, why, how long. Never a key, never the token.
// Logged, and recorded in the instance's audit trail (docs/AUDIT.md).
void record_key_request(audit::Recorder& trail, const net::Request& req, const identity::VerifiedToken& t,
                        const access::KeyReleaseResult& r, double secs, bool tampered) {
  const std::string decision = r.decision();
  Json audit{{"audit", "kas.request_key"}, {"requestId", req.request_id}, {"uniqueID", revocation_subject(t)},
             {"issuer", t.issuer},         {"resourceId", r.resource_id}, {"decision", decision},
             {"reason", r.reason},         {"latencyMs", secs * 1000}};
  if (tampered)
    spdlog::warn("{}", audit.dump());
  else
    spdlog::info("{}", audit.dump());
  audit::Event e = request_event(req, t, "kas.key_request");
  e.resource = r.resource_id;
  e.outcome = audit_outcome(r.outcome);
  e.reason = r.reason;
  e.details = audit::details(Json{{"decision", decision}, {"latencyMs", static_cast<int64_t>(secs * 1000)}});
  trail.record(std::move(e));
}

// POST /request-key: the key release's answer, counted, timed and audited.
net::Response answer_key_request(const access::KeyRelease& release, audit::Recorder& trail,
                                 const KasMetrics& m, net::Request& req, const identity::VerifiedToken& t) {
  auto start = std::chrono::steady_clock::now();
  auto r = release.handle(req.body, t, req.request_id);
  double secs = seconds_between(start, std::chrono::steady_clock::now());
  const bool tampered = r.outcome.code() == access::Outcome::Code::kIntegrity;
  m.releases.labels({r.decision()}).inc();
  m.latency.observe(secs);
  if (tampered) m.integrity.inc();
  record_key_request(trail, req, t, r, secs, tampered);
  if (!r.outcome.ok()) return error_response(r.outcome, req.request_id);
  return net::Response::json(http_status(r.outcome), r.key);
}

}  // namespace

void add_key_request_route(ServiceContext& ctx, TokenAuth& auth) {
  auto parts = make_kas_parts(ctx);
  documents::KasKeyCache* keys = parts->keys.get();
  ctx.add_check("keys", resilience::Impact::Critical, [keys] {
    size_t n = keys->size();
    return resilience::CheckResult{n > 0, n > 0 ? "" : "no KAS key loaded yet",
                                   Json{{"keys", n}, {"activeKid", keys->active_kid()}}};
  });
  KasMetrics m(ctx.registry());
  access::KeyRelease* release = parts->release.get();
  audit::Recorder* trail = &ctx.audit();
  ctx.keep(parts);
  ctx.router().add("POST", "/request-key",
                   auth.protect([release, trail, m](net::Request& req, const identity::VerifiedToken& t) {
                     return answer_key_request(*release, *trail, m, req, t);
                   }));
}

}  // namespace dive::services
