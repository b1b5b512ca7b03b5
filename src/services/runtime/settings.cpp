#include "services/runtime/settings.hpp"

#include <algorithm>

#include "common/settings.hpp"

namespace dive::services {

using namespace std::chrono_literals;

const char* to_string(Breaker b) {
  switch (b) {
    case Breaker::Database:
      return "database";
    case Breaker::Pdp:
      return "pdp";
    case Breaker::Idp:
      return "idp";
    case Breaker::Kas:
      return "kas";
    case Breaker::Api:
      return "api";
    case Breaker::Federation:
      return "federation";
    case Breaker::BlacklistRedis:
      return "blacklist_redis";
  }
  return "unknown";
}

namespace {

// The defaults of docs/RESILIENCE.md.
resilience::BreakerConfig breaker_defaults(Breaker b) {
  if (b == Breaker::Pdp) return {5, 60000ms, 2, 0};
  if (b == Breaker::Database) return {5, 60000ms, 3, 0};
  return {3, 30000ms, 2, 0};
}

resilience::BreakerConfig read_breaker(const SettingsReader& r, Breaker b) {
  const std::string at = std::string("breakers.") + to_string(b) + ".";
  resilience::BreakerConfig c = breaker_defaults(b);
  c.failure_threshold = static_cast<int>(r.whole(at + "failure_threshold", c.failure_threshold, 1));
  c.open_timeout = r.millis(at + "timeout_ms", c.open_timeout);
  c.success_threshold = static_cast<int>(r.whole(at + "success_threshold", c.success_threshold, 1));
  c.half_open_max_probes = static_cast<int>(r.whole(at + "half_open_max_probes", c.half_open_max_probes, 0));
  return c;
}

void read_http(const SettingsReader& r, HttpSettings& h) {
  h.io_threads = static_cast<int>(r.whole("http.io_threads", h.io_threads, 0, 1024));
  h.worker_threads = static_cast<int>(r.whole("http.worker_threads", h.worker_threads, 0, 4096));
  h.max_body_bytes = r.count("http.max_body_bytes", h.max_body_bytes);
  h.read_timeout = r.millis("http.read_timeout_ms", h.read_timeout);
  h.request_deadline = r.millis("http.request_deadline_ms", h.request_deadline);
  h.fd_reserve = r.count("http.fd_reserve", h.fd_reserve, 0);
  h.max_connections = r.count("http.max_connections", h.max_connections);
  h.shed_idle_at = r.number("http.shed_idle_at", h.shed_idle_at, 0.0, 1.0);
}

void read_database(const SettingsReader& r, DatabaseSettings& d) {
  d.host = r.text("database.host", d.host);
  d.port = r.port("database.port", d.port);
  d.name = r.text("database.name", d.name);
  d.user = r.text("database.user", d.user);
  d.connect_timeout = r.seconds("database.connect_timeout_s", d.connect_timeout);
  d.pool_min = static_cast<int>(r.whole("database.pool_min", d.pool_min, 0, 1024));
  d.pool_max = static_cast<int>(r.whole("database.pool_max", d.pool_max, 1, 1024));
  if (d.pool_max < d.pool_min)
    r.refuse("database.pool_max", "at least database.pool_min (" + std::to_string(d.pool_min) + ")",
             *r.find("database.pool_max"));
  d.acquire_timeout = r.millis("database.acquire_timeout_ms", d.acquire_timeout);
  d.statement_timeout = r.millis("database.statement_timeout_ms", d.statement_timeout);
  d.query_timeout = r.millis("database.query_timeout_ms", d.query_timeout);
}

void read_audit(const SettingsReader& r, AuditSettings& a) {
  a.enabled = r.flag("audit.enabled", a.enabled);
  a.queue_capacity = r.count("audit.queue_capacity", a.queue_capacity);
  a.batch = r.count("audit.batch", a.batch);
  // At most 10,000: one append is one block (migration 014), written well within the statement timeout.
  a.max_batch = std::min<size_t>(r.count("audit.max_batch", a.max_batch), 10000);
  a.flush_every = r.millis("audit.flush_ms", a.flush_every);
  a.retention_days = static_cast<int>(r.whole("audit.retention_days", a.retention_days, 1));
}

void read_api(const SettingsReader& r, ApiSettings& a) {
  a.pdp_timeout = r.millis("api.pdp_timeout_ms", a.pdp_timeout);
  a.decision_cache = r.flag("api.decision_cache", a.decision_cache);
  a.decision_cache_capacity = r.count("api.decision_cache_capacity", a.decision_cache_capacity);
  a.kas_timeout = r.millis("api.kas_timeout_ms", a.kas_timeout);
  a.origin_timeout = r.millis("api.origin_timeout_ms", a.origin_timeout);
  a.federated_search_deadline = r.millis("api.federated_search_deadline_ms", a.federated_search_deadline);
  a.kas_former_urls = r.texts("kas_former_urls");
}

}  // namespace

ServiceSettings ServiceSettings::parse(const Json& instance, const std::string& service) {
  const SettingsReader r(instance);
  ServiceSettings s;
  s.service = service;
  const std::string port_key = "ports." + service;
  if (!r.has(port_key)) throw ConfigError("instance.json has no " + port_key);
  s.port = r.port(port_key, 0);
  s.bind = r.text("bind", s.bind);
  s.dir = r.text("dir", s.dir);
  s.role = r.text("role", s.role);
  s.issuer = r.text("issuer", s.issuer);
  s.log.level = r.text("log.level", s.log.level);
  s.log.json = r.flag("log.json", s.log.json);
  s.tls = {r.text("tls.cert_file", ""), r.text("tls.key_file", ""), r.text("tls.ca_file", "")};
  s.urls = {r.text("urls.web", ""), r.text("urls.api", ""), r.text("urls.idp", ""), r.text("urls.pdp", ""),
            r.text("urls.kas", "")};
  read_http(r, s.http);
  s.health.probe_timeout = r.millis("health.probe_timeout_ms", s.health.probe_timeout);
  s.health.slow = r.millis("health.slow_ms", s.health.slow);
  s.health.refresh = r.millis("health.refresh_ms", s.health.refresh);
  read_database(r, s.database);
  s.blacklist_redis.host = r.text("blacklist_redis.host", s.blacklist_redis.host);
  s.blacklist_redis.port = r.port("blacklist_redis.port", s.blacklist_redis.port);
  read_audit(r, s.audit);
  s.policy.poll_interval = r.millis("policy.poll_interval_ms", s.policy.poll_interval);
  s.revocation.max_staleness = r.seconds("revocation.max_staleness_s", s.revocation.max_staleness);
  s.revocation.flush_interval = r.millis("revocation.flush_interval_ms", s.revocation.flush_interval);
  s.revocation.resync_interval = r.seconds("revocation.resync_interval_s", s.revocation.resync_interval);
  s.revocation.user_retention = r.seconds("revocation.user_retention_s", s.revocation.user_retention);
  s.federation.heartbeat_interval =
      r.millis("federation.heartbeat_interval_ms", s.federation.heartbeat_interval);
  s.federation.bundle_poll = r.millis("federation.bundle_poll_ms", s.federation.bundle_poll);
  s.federation.revocation_relay = r.millis("federation.revocation_relay_ms", s.federation.revocation_relay);
  for (Breaker b : kBreakers) s.breakers_[static_cast<size_t>(b)] = read_breaker(r, b);
  if (service == "api") read_api(r, s.api);
  if (service == "web") {
    s.web.upstream_timeout = r.millis("web.upstream_timeout_ms", s.web.upstream_timeout);
    s.web.alertmanager_url = r.text("monitoring.alertmanager_url", s.web.alertmanager_url);
  }
  return s;
}

}  // namespace dive::services
