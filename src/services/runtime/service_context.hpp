#pragma once
// What every DIVE service process shares: its instance configuration and secrets, logging, metrics, the
// HTTPS server with the standard health and metrics routes, and its dependencies (PostgreSQL pool, the
// blacklist Redis, HTTPS client) each behind a circuit breaker and under a deadline (docs/RESILIENCE.md).
// The instance's own Redis is no service's dependency: no request path uses it, so it is neither connected
// nor part of any health verdict (its exporter and RedisDown watch it). A service's main wires its own routes
// and health checks onto this, then calls run().
//
// Threads: set up by the main thread (constructor, connect(), add_check(), routes, server settings) before
// run(); from then on shared by every request thread and the background tasks, which call the thread-safe
// members: breaker(), partner_breaker(), audit(), http(), refresh_trust(), health_report() and the
// accessors of what setup fixed (settings() among them). Each mutex below says what it guards.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "common/mutex.hpp"
#include "common/periodic.hpp"
#include "net/http.hpp"
#include "net/router.hpp"
#include "resilience/circuit_breaker.hpp"
#include "resilience/health.hpp"
#include "services/runtime/settings.hpp"

namespace dive::audit {
class AuditSink;
class Recorder;
}  // namespace dive::audit
namespace dive::metrics {
class Registry;
}
namespace dive::net {
class HttpsClient;
struct ServerConfig;
}  // namespace dive::net
namespace dive::store {
class PgPool;
class RedisClient;
}  // namespace dive::store

namespace dive::services {

struct Dependencies {
  bool database = false;          // the instance's PostgreSQL (pool + Breaker::Database), migrations at start
  bool database_critical = true;  // false: the service works without it (degraded, not unhealthy)
  bool blacklist_redis = false;   // the shared revocation Redis on the hub (Breaker::BlacklistRedis)
};

class ServiceContext {
 public:
  // Loads $DIVE_HOME/instances/<code>/{instance,secrets}.json, parses the settings (ConfigError naming a bad
  // one) and sets up logging and metrics.
  // `clock` drives every timer and cache of the context and of what the service wires from it (clock()).
  ServiceContext(std::string service, std::string code, Clock& clock = Clock::system());
  // A service that belongs to no instance (the monitoring stack's `monitor`): its settings are given, in
  // the same shape (ports.<service>, tls, log, http, health). `code` may be empty.
  ServiceContext(std::string service, std::string code, Json config, Json secrets,
                 Clock& clock = Clock::system());
  ~ServiceContext();

  const std::string& service() const { return service_; }
  const std::string& code() const { return code_; }
  // instance.json as this service sees it (service_overrides and DIVE_* overrides applied).
  const Json& config() const { return cfg_; }
  // Its settings, parsed and checked once (settings.hpp): what a service reads of instance.json.
  const ServiceSettings& settings() const { return settings_; }
  const Json& secrets() const { return secrets_; }
  // The time source of this service: breakers, caches and timers built from the context take it.
  Clock& clock() const { return clock_; }
  metrics::Registry& registry();
  net::Router& router() { return *router_; }

  // Connects the dependencies (never blocking on a down one: pools and clients recover by themselves).
  void connect(const Dependencies& deps);
  store::PgPool& db();
  store::RedisClient& blacklist();
  // The audit trail of this process (docs/AUDIT.md): what is recorded here is appended to the instance's
  // hash chain by a background writer through db(), never on the request path. Records nothing when the
  // service has no database or instance.json says "audit": {"enabled": false}. Thread-safe.
  audit::Recorder& audit();
  net::HttpsClient& http();  // verifies against the instance's CA (and the federation's CA set)
  // Loads the federation CA set now if it changed (also done every 500 ms): called before a newly trusted
  // issuer is accepted, so that its keys can be fetched. Thread-safe.
  void refresh_trust();
  // The breaker of a dependency, created on first use with its settings.
  resilience::CircuitBreaker& breaker(Breaker b);
  // The breaker of a federation partner ("partner:<CODE>", Breaker::Federation's settings).
  resilience::CircuitBreaker& partner_breaker(const std::string& code);

  // Health checks: Critical ones make the service unhealthy (and not ready) when down.
  void add_check(const std::string& name, resilience::Impact impact,
                 std::function<resilience::CheckResult()> probe);
  // A check of another DIVE service's /health/live over TLS, through its breaker (the check is named like
  // it).
  void add_service_check(Breaker service, const std::string& base_url, resilience::Impact impact);
  // Runs the checks (cached for a short moment) -> {status, checks, breakers, ...}; also published as
  // dive_v3_health_status / dive_v3_health_check_up, refreshed every health.refresh_ms while run() serves.
  Json health_report();

  // The HTTPS server's settings (from instance.json); a service may adjust them before run().
  net::ServerConfig& server_config() { return *server_cfg_; }
  // The standard routes (/health, /health/ready, /health/live, /health/detailed, /metrics) are installed
  // by run(); a service that serves its own version of one says so here first.
  void replace_standard_route(const std::string& path) { replaced_.push_back(path); }
  // Keeps a component of the service alive as long as the context (destroyed in reverse order).
  void keep(std::shared_ptr<void> component) { owned_.push_back(std::move(component)); }
  bool schema_ready() const { return schema_ready_; }

  // Serves until SIGTERM/SIGINT, then drains and exits 0. Returns the exit code.
  int run();

 private:
  void init();
  void install_standard_routes();
  void export_certificate_expiry();
  resilience::CircuitBreaker& breaker_named(const std::string& name, const resilience::BreakerConfig& conf);
  resilience::CheckResult ping_check(Breaker breaker, store::RedisClient& client);
  // The steps of connect():
  // the HTTPS client, trusting the instance's CA, or the federation's CA set when there is one (followed
  // by trust_watch_ while the service runs);
  void connect_http();
  // the PostgreSQL pool behind Breaker::Database, with its "database" health check (database_check());
  void connect_database(bool critical);
  resilience::CheckResult database_check();
  void start_migrations();
  // the audit sink writing this process's records to the pool, unless instance.json disables it;
  void start_audit_sink();
  // the blacklist Redis client behind Breaker::BlacklistRedis, with its "blacklistRedis" health check.
  void connect_blacklist();

  std::string service_, code_;
  Clock& clock_;
  Json cfg_, secrets_;
  ServiceSettings settings_;
  std::unique_ptr<net::ServerConfig> server_cfg_;
  std::vector<std::string> replaced_;
  std::shared_ptr<net::Router> router_;
  std::unique_ptr<store::PgPool> db_;
  std::unique_ptr<audit::AuditSink> audit_;  // after db_: destroyed (flushed) before the pool goes
  std::unique_ptr<store::RedisClient> blacklist_;
  std::unique_ptr<net::HttpsClient> http_;
  std::string trust_file_;  // <dir>/federation/trust.pem ("" without an instance dir)
  Mutex trust_mu_;
  std::string trust_digest_ GUARDED_BY(trust_mu_);  // the federation CA set loaded
  std::string trust_error_ GUARDED_BY(trust_mu_);   // the digest of the set that last failed to load
  std::unique_ptr<Periodic> trust_watch_;           // after http_: stopped before it goes
  Mutex breakers_mu_;
  std::map<std::string, std::unique_ptr<resilience::CircuitBreaker>> breakers_ GUARDED_BY(breakers_mu_);
  // Added during setup, while tasks started by the setup (the federation agent's heartbeat) may already run
  // health_report(): each report runs a copy taken under the lock.
  Mutex checks_mu_;
  std::vector<resilience::CheckSpec> checks_ GUARDED_BY(checks_mu_);
  std::atomic<bool> schema_ready_{false};
  std::atomic<bool> stopping_{false};
  std::thread migration_thread_;
  Mutex health_mu_;
  std::unique_ptr<resilience::HealthMetrics> health_metrics_;  // created at setup; published under health_mu_
  Json cached_health_ GUARDED_BY(health_mu_);
  SteadyTime cached_at_ GUARDED_BY(health_mu_);
  std::vector<std::shared_ptr<void>> owned_;  // last member: destroyed first
};

}  // namespace dive::services
