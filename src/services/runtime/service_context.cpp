#include "services/runtime/service_context.hpp"

#include <unistd.h>

#include <cstdlib>

#include "common/mutex.hpp"
#include "common/process.hpp"

#include <signal.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "audit/sink.hpp"
#include "common/config.hpp"
#include "common/encoding.hpp"
#include "common/fs.hpp"
#include "common/logging.hpp"
#include "common/ossl.hpp"
#include "common/paths.hpp"
#include "common/periodic.hpp"
#include "common/strings.hpp"
#include "metrics/process_metrics.hpp"
#include "metrics/registry.hpp"
#include "net/https_client.hpp"
#include "net/https_server.hpp"
#include "net/router.hpp"
#include "store/embedded_migrations.hpp"
#include "store/local_postgres.hpp"
#include "store/migrations.hpp"
#include "store/pg_pool.hpp"
#include "store/redis_client.hpp"

#include <pqxx/nontransaction>

namespace dive::services {

using namespace std::chrono_literals;
using resilience::Impact;

namespace {
constexpr int64_t kInstanceMigrationLock = 0x0D1E0002;

Json load_json(const std::filesystem::path& p) {
  auto text = try_read_file(p);
  if (!text) throw std::runtime_error("cannot read " + p.string() + " (is the instance deployed?)");
  return Json::parse(*text);
}
}  // namespace

ServiceContext::ServiceContext(std::string service, std::string code, Clock& clock)
    : service_(std::move(service)),
      code_(to_upper(code)),
      clock_(clock),
      router_(std::make_shared<net::Router>()) {
  auto dir = dive_home() / "instances" / to_lower(code_);
  cfg_ = load_json(dir / "instance.json");
  // Only this service's secrets (docs/SECURITY.md): secrets/<service>.json, written by the supervisor. An
  // instance deployed before per-service secrets existed still has only the shared file.
  const auto own = dir / "secrets" / (service_ + ".json");
  secrets_ = load_json(std::filesystem::exists(own) ? own : dir / "secrets.json");
  init();
}

ServiceContext::ServiceContext(std::string service, std::string code, Json config, Json secrets, Clock& clock)
    : service_(std::move(service)),
      code_(to_upper(code)),
      clock_(clock),
      cfg_(std::move(config)),
      secrets_(std::move(secrets)),
      router_(std::make_shared<net::Router>()) {
  init();
}

void ServiceContext::init() {
  // instance.json "service_overrides": {"<service>": {...}} replaces settings for one service only (a JSON
  // merge patch), e.g. to point one service's database or pdp at another address (the resilience tests
  // place a fault proxy there: docs/RESILIENCE.md).
  if (auto it = cfg_.find("service_overrides");
      it != cfg_.end() && it->is_object() && it->contains(service_)) {
    const Json patch = (*it)[service_];
    if (patch.is_object()) {
      cfg_.merge_patch(patch);
      spdlog::info("instance.json service_overrides.{} applied: {}", service_, patch.dump());
    }
  }
  // DIVE_* environment variables override instance.json leaves (common/config.hpp).
  Config c(cfg_);
  c.apply_env(Config::process_env());
  cfg_ = c.root();
  settings_ = ServiceSettings::parse(cfg_, service_);
  const ServiceSettings& s = settings_;
  LogOptions lo;
  lo.service = code_.empty() ? service_ : service_ + "-" + to_lower(code_);
  lo.level = s.log.level;
  lo.json = s.log.json;
  init_logging(lo);
  metrics::register_process_metrics(registry(), service_);
  health_metrics_ = std::make_unique<resilience::HealthMetrics>(registry());
  export_certificate_expiry();
  server_cfg_ = std::make_unique<net::ServerConfig>();
  auto& sc = *server_cfg_;
  sc.host = s.bind;  // the instance's bind address (instance_config.hpp Placement)
  sc.port = s.port;
  sc.cert_file = s.tls.cert_file;
  sc.key_file = s.tls.key_file;
  sc.service = service_;
  // The supervisor's listening socket for this port, when it hands one over (graceful restarts: the old and
  // the new process share it, so no connection is refused while one replaces the other).
  if (const char* fd = std::getenv("DIVE_LISTEN_FD"); fd && *fd) {
    if (auto n = parse_int(fd); n && *n >= 3 && *n < 1024) {
      sc.inherited_fd = static_cast<int>(*n);
      ::unsetenv("DIVE_LISTEN_FD");
    } else {
      spdlog::warn("DIVE_LISTEN_FD={} is not a descriptor; listening on the port itself", fd);
    }
  }
  sc.io_threads = s.http.io_threads;
  sc.worker_threads = s.http.worker_threads;
  sc.max_body_bytes = s.http.max_body_bytes;
  sc.read_timeout = s.http.read_timeout;
  // No request waits on its dependencies longer than this (docs/RESILIENCE.md).
  sc.request_deadline = s.http.request_deadline;
  // Connections: as many as the open-file limit allows (raised to its hard limit first), less a reserve for
  // what the process opens itself (database and Redis pools, calls to the pdp, idp, kas and partners, log
  // and data files). Near the cap, idle keep-alive connections are shed first (net/https_server.hpp).
  const uint64_t reserve = s.http.fd_reserve;
  const uint64_t nofile = raise_open_files_limit().value_or(1024);
  const uint64_t room = nofile > reserve + 64 ? nofile - reserve : 64;
  sc.max_connections = static_cast<size_t>(std::min<uint64_t>(s.http.max_connections, room));
  sc.shed_idle_at = s.http.shed_idle_at;
  spdlog::info("open-file limit {}; up to {} client connections ({} kept for outbound connections and files)",
               nofile, sc.max_connections, nofile - std::min<uint64_t>(nofile, sc.max_connections));
}

// The certificate this process serves and the CA it trusts, as loaded at start (a renewed file takes
// effect, and shows here, when the service restarts).
void ServiceContext::export_certificate_expiry() {
  auto& expiry = registry().gauge(
      "dive_v3_certificate_expiry_timestamp_seconds",
      "notAfter of this service's TLS certificate (server) and of the CA it trusts", {"certificate"});
  for (const auto& [label, file] :
       {std::pair{"server", settings_.tls.cert_file}, std::pair{"ca", settings_.tls.ca_file}}) {
    if (file.empty()) continue;
    if (auto t = ossl::certificate_not_after(file))
      expiry.labels({label}).set(static_cast<double>(*t));
    else
      spdlog::warn("cannot read the expiry of {} ({})", file, label);
  }
}

ServiceContext::~ServiceContext() {
  stopping_ = true;
  if (migration_thread_.joinable()) migration_thread_.join();
  // The kept components, and those only the routes hold (the pdp's bundle poller lives in a route's
  // capture), run threads that use the pools and clients declared before them: they go first, in reverse
  // order of keeping. (The router used to outlive the database pool, so a pdp that could not listen crashed
  // on its way out when its poller ran against the destroyed pool.)
  router_.reset();
  while (!owned_.empty()) owned_.pop_back();
}

metrics::Registry& ServiceContext::registry() {
  return metrics::Registry::global();
}

void ServiceContext::refresh_trust() {
  if (trust_file_.empty() || !http_) return;
  MutexLock lock(trust_mu_);
  auto text = try_read_file(trust_file_);
  if (!text || text->empty()) return;
  auto digest = sha256_hex(*text);
  if (digest == trust_digest_) return;
  try {
    http_->set_ca_file(trust_file_);
    trust_digest_ = digest;
    spdlog::info("outbound TLS now trusts the federation CA set {} ({})", trust_file_, digest.substr(0, 12));
  } catch (const std::exception& e) {
    if (trust_error_ != digest) spdlog::error("federation CA set {} not loaded: {}", trust_file_, e.what());
    trust_error_ = digest;
  }
}

resilience::CircuitBreaker& ServiceContext::breaker_named(const std::string& name,
                                                          const resilience::BreakerConfig& conf) {
  MutexLock lock(breakers_mu_);
  auto& slot = breakers_[name];
  if (!slot) slot = std::make_unique<resilience::CircuitBreaker>(name, conf, clock_, &registry());
  return *slot;
}

resilience::CircuitBreaker& ServiceContext::breaker(Breaker b) {
  return breaker_named(to_string(b), settings_.breaker(b));
}

resilience::CircuitBreaker& ServiceContext::partner_breaker(const std::string& code) {
  return breaker_named("partner:" + code, settings_.breaker(Breaker::Federation));
}

void ServiceContext::connect(const Dependencies& deps) {
  connect_http();
  if (deps.database) {
    connect_database(deps.database_critical);
    start_migrations();
    start_audit_sink();
  }
  if (deps.blacklist_redis) connect_blacklist();
}

void ServiceContext::connect_http() {
  net::ClientConfig cc;
  cc.ca_file = settings_.tls.ca_file;
  // A federated instance trusts the CA set of its trust bundle (written by the api's federation agent,
  // docs/FEDERATION.md): loaded now when present, and followed while the service runs.
  const std::string trust = settings_.dir.empty() ? "" : settings_.dir + "/federation/trust.pem";
  if (!trust.empty()) {
    if (auto text = try_read_file(trust); text && !text->empty()) {
      try {
        net::ClientConfig fc = cc;
        fc.ca_file = trust;
        http_ = std::make_unique<net::HttpsClient>(fc);
        MutexLock lock(trust_mu_);  // no watcher yet; the lock keeps the rule simple
        trust_digest_ = sha256_hex(*text);
      } catch (const std::exception& e) {
        spdlog::error("federation CA set {} not loaded ({}); trusting this instance's CA only", trust,
                      e.what());
      }
    }
  }
  if (!http_) http_ = std::make_unique<net::HttpsClient>(cc);
  trust_file_ = trust;
  if (!trust.empty()) trust_watch_ = std::make_unique<Periodic>(Millis(500), [this] { refresh_trust(); });
}

void ServiceContext::connect_database(bool critical) {
  const DatabaseSettings& d = settings_.database;
  store::PgPoolConfig pc;
  pc.conninfo =
      store::pg_conninfo(d.host, d.port, d.name,
                         // Its own role (docs/SECURITY.md); the owner only for an instance
                         // deployed before roles existed.
                         secrets_.value("database_user", d.user), secrets_.value("postgres_password", ""),
                         static_cast<int>(d.connect_timeout.count()));
  pc.db_type = "instance";
  pc.min_size = d.pool_min;
  pc.max_size = d.pool_max;
  pc.acquire_timeout = d.acquire_timeout;
  pc.statement_timeout = d.statement_timeout;
  pc.query_timeout = d.query_timeout;
  db_ = std::make_unique<store::PgPool>(pc, &registry());
  // Every call through the pool runs behind the breaker (the health ping too: while the breaker is open
  // it answers at once, and once half-open the ping is one of the trial calls that close it again).
  db_->set_breaker(&breaker(Breaker::Database));
  add_check("database", critical ? Impact::Critical : Impact::Important, [this] { return database_check(); });
}

resilience::CheckResult ServiceContext::database_check() {
  bool ok = false;
  std::string err;
  try {
    db_->with([](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      tx.exec("SELECT 1");
    });
    ok = true;
  } catch (const std::exception& e) {
    err = e.what();
  }
  auto st = db_->stats();
  return resilience::CheckResult{ok && schema_ready_,
                                 ok && !schema_ready_ ? "schema migrations not applied yet" : err,
                                 Json{{"active", st.active},
                                      {"idle", st.idle},
                                      {"total", st.total},
                                      {"max", st.max},
                                      {"waiting", st.waiting},
                                      {"timeouts", st.timeouts},
                                      {"exhausted", st.exhausted}}};
}

void ServiceContext::start_audit_sink() {
  // instance.json "audit": {"enabled", "queue_capacity", "batch", "flush_ms"} (docs/AUDIT.md).
  const AuditSettings& a = settings_.audit;
  if (!a.enabled) {
    spdlog::warn("audit trail disabled by instance.json (audit.enabled = false): nothing is recorded");
    return;
  }
  audit::SinkOptions so;
  so.service = service_;
  so.capacity = a.queue_capacity;
  so.batch = a.batch;
  so.max_batch = a.max_batch;
  so.flush_every = a.flush_every;
  audit_ = std::make_unique<audit::AuditSink>(
      std::make_unique<audit::PgBatchWriter>(*db_, [this] { return schema_ready_.load(); }), so, clock_,
      &registry());
}

void ServiceContext::connect_blacklist() {
  store::RedisConfig rc;
  rc.name = "blacklist";
  rc.user = secrets_.value("blacklist_redis_user", "");
  rc.host = settings_.blacklist_redis.host;
  rc.port = settings_.blacklist_redis.port;
  rc.password = secrets_.value("blacklist_redis_password", "");
  blacklist_ = std::make_unique<store::RedisClient>(rc, &registry());
  breaker(Breaker::BlacklistRedis);
  add_check("blacklistRedis", Impact::Important,
            [this] { return ping_check(Breaker::BlacklistRedis, *blacklist_); });
}

resilience::CheckResult ServiceContext::ping_check(Breaker b, store::RedisClient& client) {
  try {
    bool ok = breaker(b).run([&] {
      if (!client.ping()) throw std::runtime_error("no answer to PING");
      return true;
    });
    return resilience::CheckResult{ok, "", Json::object()};
  } catch (const std::exception& e) {
    return resilience::CheckResult{false, e.what(), Json::object()};
  }
}

// Schema migrations run in the background: a service starts (and says it is not ready) while its
// database is down, and finishes the migrations as soon as the database answers.
void ServiceContext::start_migrations() {
  // A service with a role of its own cannot change the schema: the supervisor migrates
  // (orchestrator/db_roles) and the service waits for the version it was built for.
  const bool own_role = secrets_.contains("database_user");
  const int expected = store::instance_migrations().empty() ? 0 : store::instance_migrations().back().version;
  migration_thread_ = std::thread([this, own_role, expected] {
    resilience::Backoff backoff({200ms, 2.0, 5000ms, 100ms});
    while (!stopping_) {
      try {
        db_->with([&](pqxx::connection& c) {
          if (!own_role) {
            store::apply_migrations(c, store::instance_migrations(), kInstanceMigrationLock);
            return 0;
          }
          const int v = store::current_schema_version(c);
          if (v > expected) throw store::SchemaTooNew(v, expected);
          if (v < expected)
            throw std::runtime_error("the schema is at version " + std::to_string(v) + ", this build needs " +
                                     std::to_string(expected) + " (the supervisor applies migrations)");
          return 0;
        });
        schema_ready_ = true;
        spdlog::info("schema at version {}", expected);
        return;
      } catch (const store::SchemaTooNew& e) {
        // Refuse to start: this binary would misread (or damage) data a newer version wrote.
        spdlog::critical("{} refuses to start: {}", service_, e.what());
        spdlog::shutdown();
        std::_Exit(78);  // EX_CONFIG
      } catch (const std::exception& e) {
        auto d = backoff.next();
        spdlog::warn("schema not ready yet ({}); retrying in {} ms", e.what(), d.count());
        for (auto until = clock_.now() + d; !stopping_ && clock_.now() < until;)
          std::this_thread::sleep_for(50ms);
      }
    }
  });
}

store::PgPool& ServiceContext::db() {
  return *db_;
}
audit::Recorder& ServiceContext::audit() {
  if (audit_) return *audit_;
  return audit::NullRecorder::instance();
}
store::RedisClient& ServiceContext::blacklist() {
  return *blacklist_;
}
net::HttpsClient& ServiceContext::http() {
  return *http_;
}

void ServiceContext::add_check(const std::string& name, Impact impact,
                               std::function<resilience::CheckResult()> probe) {
  MutexLock lock(checks_mu_);
  checks_.push_back(resilience::CheckSpec{name, impact, std::move(probe), settings_.health.probe_timeout,
                                          settings_.health.slow});
}

void ServiceContext::add_service_check(Breaker service, const std::string& base_url, Impact impact) {
  breaker(service);
  add_check(to_string(service), impact, [this, service, base_url] {
    try {
      return breaker(service).run([&] {
        net::ClientRequest r;
        r.url = base_url + "/health/live";
        r.timeout = 2000ms;
        auto resp = http_->send(r);
        if (resp.status != 200) throw std::runtime_error("HTTP " + std::to_string(resp.status));
        return resilience::CheckResult{true, "", Json::object()};
      });
    } catch (const std::exception& e) {
      return resilience::CheckResult{false, e.what(), Json::object()};
    }
  });
}

Json ServiceContext::health_report() {
  MutexLock lock(health_mu_);
  auto now = clock_.now();
  if (!cached_health_.is_null() && now - cached_at_ < 250ms) return cached_health_;
  std::vector<std::string> extra;
  Json breakers = Json::object();
  {
    MutexLock bl(breakers_mu_);
    for (auto& [name, b] : breakers_) {
      auto snap = b->snapshot();
      breakers[name] = snap.to_json();
      if (snap.state != resilience::BreakerState::Closed)
        extra.push_back("circuit breaker " + name + " is " + resilience::to_string(snap.state));
    }
  }
  std::vector<resilience::CheckSpec> checks;
  {
    MutexLock cl(checks_mu_);
    checks = checks_;
  }
  auto report = resilience::aggregate(resilience::run_checks(checks), extra);
  health_metrics_->publish(report);
  Json j = report.to_json();
  j["service"] = service_;
  j["instance"] = code_;
  j["circuitBreakers"] = breakers;
  j["memory"] = Json{{"rssBytes", proc_rss_bytes(::getpid()).value_or(0)}};
  j["timestamp"] = clock_.unix_millis();
  cached_health_ = j;
  cached_at_ = now;
  return j;
}

void ServiceContext::install_standard_routes() {
  auto& r = *router_;
  auto add = [&](const std::string& path, net::Handler h, net::Exec exec) {
    if (std::find(replaced_.begin(), replaced_.end(), path) == replaced_.end())
      r.add("GET", path, std::move(h), exec);
  };
  add(
      "/health/live",
      [this](net::Request&) {
        return net::Response::json(200, Json{{"status", "alive"}, {"service", service_}});
      },
      net::Exec::Inline);
  add(
      "/health/ready",
      [this](net::Request&) {
        Json h = health_report();
        bool ready = h["status"] != "unhealthy";
        // The pid tells the supervisor which of two processes sharing the port answered (graceful restarts).
        return net::Response::json(ready ? 200 : 503, Json{{"status", ready ? "ready" : "not_ready"},
                                                           {"checks", h["checks"]},
                                                           {"pid", static_cast<int64_t>(::getpid())}});
      },
      net::Exec::Worker);
  auto full = [this](net::Request&) {
    Json h = health_report();
    return net::Response::json(h["status"] == "unhealthy" ? 503 : 200, h);
  };
  add("/health", full, net::Exec::Worker);
  add("/health/detailed", full, net::Exec::Worker);
  add(
      "/metrics",
      [this](net::Request&) {
        return net::Response::text(200, registry().expose(), "text/plain; version=0.0.4; charset=utf-8");
      },
      net::Exec::Worker);
}

int ServiceContext::run() {
  install_standard_routes();
  net::HttpServer server(*server_cfg_, router_, &registry());
  server.start();
  // The health verdict is a metric too: refreshed even when nobody asks /health (alerts rely on it).
  Periodic health_refresh(
      settings_.health.refresh, [this] { health_report(); },
      [](const std::string& e) { spdlog::debug("health refresh: {}", e); }, true);
  spdlog::info("{} of {} listening on {}://{}:{}", service_, code_,
               server_cfg_->cert_file.empty() ? "http" : "https", server_cfg_->host, server.port());
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  int sig = 0;
  sigwait(&mask, &sig);
  spdlog::info("signal {} received: draining and stopping", sig);
  stopping_ = true;
  server.stop(5000ms);
  spdlog::info("{} stopped", service_);
  return 0;
}

}  // namespace dive::services
