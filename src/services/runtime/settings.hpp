#pragma once
// The settings of a service process, from its instance.json (after service_overrides and the DIVE_*
// environment overrides), each with its default here and nowhere else. Parsed and checked once, when the
// ServiceContext is made: a bad value stops the service at start with a message naming its key
// ("instance.json http.read_timeout_ms must be a whole number of milliseconds, at least 1 (got -5)").
// The shared part is read for every service; a service's own part (api, web) only for that service.
// Every setting is optional; the orchestrator writes them all (orchestrator/instance_config.cpp).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "identity/revocation_limits.hpp"
#include "resilience/circuit_breaker.hpp"

namespace dive::services {

// The dependencies a service calls through a circuit breaker (docs/RESILIENCE.md). Each has the settings
// breakers.<name> of instance.json; a federation partner's breaker ("partner:<CODE>") takes Federation's.
enum class Breaker { Database, Pdp, Idp, Kas, Api, Federation, BlacklistRedis };
inline constexpr std::array kBreakers{Breaker::Database,      Breaker::Pdp, Breaker::Idp,
                                      Breaker::Kas,           Breaker::Api, Breaker::Federation,
                                      Breaker::BlacklistRedis};
// Its name in instance.json and in /health: "database", "pdp", "idp", "kas", "api", "federation",
// "blacklist_redis".
const char* to_string(Breaker b);

struct LogSettings {  // log.*
  std::string level = "info";
  bool json = false;
};

struct TlsSettings {  // tls.*: empty when absent (plain HTTP, the system's CAs)
  std::string cert_file, key_file, ca_file;
};

struct UrlSettings {  // urls.*: the instance's services
  std::string web, api, idp, pdp, kas;
};

struct HttpSettings {      // http.*: the service's HTTPS server (net/https_server.hpp)
  int io_threads = 0;      // 0: one per core
  int worker_threads = 0;  // 0: four per core, at least 4 (net/https_server.hpp)
  size_t max_body_bytes = size_t{1} << 20;
  Millis read_timeout{10000};
  Millis request_deadline{5000};  // no request waits on its dependencies longer (docs/RESILIENCE.md)
  uint64_t fd_reserve = 256;      // open files kept for what the process opens itself
  uint64_t max_connections = 10000;
  double shed_idle_at = 0.9;  // share of max_connections from which idle keep-alive connections are shed
};

struct HealthSettings {  // health.*
  Millis probe_timeout{2000};
  Millis slow{1000};
  Millis refresh{5000};  // the health verdict (and its metrics) refreshed this often
};

struct DatabaseSettings {  // database.*: the instance's PostgreSQL and this process's pool
  std::string host = "127.0.0.1";
  uint16_t port = 5432;
  std::string name = "dive";
  std::string user = "dive";  // the owner: only for an instance deployed before per-service roles
  std::chrono::seconds connect_timeout{2};
  int pool_min = 1;
  int pool_max = 8;
  Millis acquire_timeout{2000};
  Millis statement_timeout{2500};
  Millis query_timeout{3000};
};

struct RedisEndpoint {  // blacklist_redis.*
  std::string host = "127.0.0.1";
  uint16_t port = 6379;
};

struct AuditSettings {  // audit.* (docs/AUDIT.md)
  bool enabled = true;
  size_t queue_capacity = 20000;
  size_t batch = 1000;
  size_t max_batch = 5000;  // at most 10,000 (the room an audit partition always has ahead)
  Millis flush_every{200};  // audit.flush_ms
  int retention_days = 365;
};

struct PolicySettings {        // policy.*
  Millis poll_interval{1000};  // the active bundle revision and the trusted issuers, polled this often
};

struct RevocationSettings {  // revocation.* (docs/REVOCATION.md)
  std::chrono::seconds max_staleness{300};
  Millis flush_interval{1000};
  std::chrono::seconds resync_interval{30};
  std::chrono::seconds user_retention = identity::kDefaultUserRetention;  // user_retention_s
};

struct FederationSettings {  // federation.* (docs/FEDERATION.md)
  Millis heartbeat_interval{30000};
  Millis bundle_poll{1000};
  Millis revocation_relay{2000};
};

struct ApiSettings {  // api.*: the api only
  Millis pdp_timeout{2000};
  bool decision_cache = true;  // false: a NullDecisionCache, every decision from the pdp
  size_t decision_cache_capacity = 100000;
  Millis kas_timeout{5000};
  Millis origin_timeout{5000};
  Millis federated_search_deadline{3000};
  std::vector<std::string> kas_former_urls;  // kas_former_urls: KAS URLs this instance answered at before
};

struct WebSettings {  // web.*: the console only
  Millis upstream_timeout{5000};
  std::string alertmanager_url;  // monitoring.alertmanager_url
};

struct ServiceSettings {
  std::string service;
  std::string bind = "127.0.0.1";  // the instance's bind address
  uint16_t port = 0;               // ports.<service>: required
  std::string dir;                 // the instance's directory ("" when it has none)
  std::string role;                // "hub" or "spoke" ("" when it has none)
  std::string issuer;              // the instance's own token issuer
  LogSettings log;
  TlsSettings tls;
  UrlSettings urls;
  HttpSettings http;
  HealthSettings health;
  DatabaseSettings database;
  RedisEndpoint blacklist_redis;
  AuditSettings audit;
  PolicySettings policy;
  RevocationSettings revocation;
  FederationSettings federation;
  ApiSettings api;
  WebSettings web;

  bool hub() const { return role == "hub"; }
  // breakers.<name> over the defaults of docs/RESILIENCE.md.
  const resilience::BreakerConfig& breaker(Breaker b) const { return breakers_[static_cast<size_t>(b)]; }

  // Throws ConfigError naming the first bad setting.
  static ServiceSettings parse(const Json& instance, const std::string& service);

 private:
  std::array<resilience::BreakerConfig, kBreakers.size()> breakers_;
};

}  // namespace dive::services
