// A service's settings: every default in one place, what instance.json gives read once, and a bad value
// refused at start with a message naming its key.
#include "services/runtime/settings.hpp"

#include <gtest/gtest.h>

#include "common/config.hpp"

using namespace dive;
using namespace dive::services;
using namespace std::chrono_literals;

namespace {

Json minimal(const std::string& service) {
  return Json{{"code", "USA"}, {"ports", {{service, 4000}}}};
}

std::string refusal(const Json& instance, const std::string& service) {
  try {
    ServiceSettings::parse(instance, service);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ServiceSettings, DefaultsWhenInstanceJsonSaysNothing) {
  const auto s = ServiceSettings::parse(minimal("api"), "api");
  EXPECT_EQ(s.port, 4000);
  EXPECT_EQ(s.bind, "127.0.0.1");
  EXPECT_EQ(s.log.level, "info");
  EXPECT_FALSE(s.log.json);
  EXPECT_EQ(s.http.io_threads, 0);
  EXPECT_EQ(s.http.worker_threads, 0) << "four per core (net/https_server.hpp)";
  EXPECT_EQ(s.http.max_body_bytes, 1u << 20);
  EXPECT_EQ(s.http.read_timeout, 10000ms);
  EXPECT_EQ(s.http.request_deadline, 5000ms);
  EXPECT_EQ(s.http.fd_reserve, 256u);
  EXPECT_EQ(s.http.max_connections, 10000u);
  EXPECT_DOUBLE_EQ(s.http.shed_idle_at, 0.9);
  EXPECT_EQ(s.health.probe_timeout, 2000ms);
  EXPECT_EQ(s.health.slow, 1000ms);
  EXPECT_EQ(s.health.refresh, 5000ms);
  EXPECT_EQ(s.database.host, "127.0.0.1");
  EXPECT_EQ(s.database.port, 5432);
  EXPECT_EQ(s.database.name, "dive");
  EXPECT_EQ(s.database.user, "dive");
  EXPECT_EQ(s.database.connect_timeout, 2s);
  EXPECT_EQ(s.database.pool_min, 1);
  EXPECT_EQ(s.database.pool_max, 8);
  EXPECT_EQ(s.database.acquire_timeout, 2000ms);
  EXPECT_EQ(s.database.statement_timeout, 2500ms);
  EXPECT_EQ(s.database.query_timeout, 3000ms);
  EXPECT_EQ(s.blacklist_redis.port, 6379);
  EXPECT_TRUE(s.audit.enabled);
  EXPECT_EQ(s.audit.queue_capacity, 20000u);
  EXPECT_EQ(s.audit.batch, 1000u);
  EXPECT_EQ(s.audit.max_batch, 5000u);
  EXPECT_EQ(s.audit.flush_every, 200ms);
  EXPECT_EQ(s.audit.retention_days, 365);
  EXPECT_EQ(s.policy.poll_interval, 1000ms);
  EXPECT_EQ(s.revocation.max_staleness, 300s);
  EXPECT_EQ(s.revocation.flush_interval, 1000ms);
  EXPECT_EQ(s.revocation.resync_interval, 30s);
  EXPECT_EQ(s.revocation.user_retention, 1230s);
  EXPECT_EQ(s.federation.heartbeat_interval, 30000ms);
  EXPECT_EQ(s.federation.bundle_poll, 1000ms);
  EXPECT_EQ(s.federation.revocation_relay, 2000ms);
  EXPECT_EQ(s.api.pdp_timeout, 2000ms);
  EXPECT_TRUE(s.api.decision_cache);
  EXPECT_EQ(s.api.decision_cache_capacity, 100000u);
  EXPECT_EQ(s.api.kas_timeout, 5000ms);
  EXPECT_EQ(s.api.origin_timeout, 5000ms);
  EXPECT_EQ(s.api.federated_search_deadline, 3000ms);
  EXPECT_TRUE(s.api.kas_former_urls.empty());
  EXPECT_FALSE(s.hub());
  EXPECT_EQ(ServiceSettings::parse(minimal("web"), "web").web.upstream_timeout, 5000ms);
}

TEST(ServiceSettings, BreakersHaveTheDefaultsOfResilienceMdAndTheirOverrides) {
  Json j = minimal("api");
  j["breakers"] = {{"kas", {{"failure_threshold", 7}, {"timeout_ms", 3000}}}};
  const auto s = ServiceSettings::parse(j, "api");
  EXPECT_EQ(s.breaker(Breaker::Pdp).failure_threshold, 5);
  EXPECT_EQ(s.breaker(Breaker::Pdp).open_timeout, 60000ms);
  EXPECT_EQ(s.breaker(Breaker::Pdp).success_threshold, 2);
  EXPECT_EQ(s.breaker(Breaker::Database).success_threshold, 3);
  EXPECT_EQ(s.breaker(Breaker::Federation).failure_threshold, 3);
  EXPECT_EQ(s.breaker(Breaker::Federation).open_timeout, 30000ms);
  EXPECT_EQ(s.breaker(Breaker::Kas).failure_threshold, 7);
  EXPECT_EQ(s.breaker(Breaker::Kas).open_timeout, 3000ms);
  EXPECT_EQ(s.breaker(Breaker::Kas).success_threshold, 2) << "what it does not say keeps its default";
  for (Breaker b : kBreakers) EXPECT_EQ(s.breaker(b).half_open_max_probes, 0) << to_string(b);
  EXPECT_STREQ(to_string(Breaker::BlacklistRedis), "blacklist_redis");
}

TEST(ServiceSettings, WhatInstanceJsonGivesIsRead) {
  Json j = minimal("api");
  j["bind"] = "0.0.0.0";
  j["role"] = "hub";
  j["dir"] = "/home/x/instances/usa";
  j["issuer"] = "https://localhost:8443/realms/dive-v3-broker-usa";
  j["urls"] = {{"pdp", "https://localhost:9100"}, {"kas", "https://localhost:10000"}};
  j["http"] = {{"max_connections", 1000}, {"shed_idle_at", 1}};
  j["database"] = {{"port", 5442}, {"pool_min", 0}, {"pool_max", 2}};
  j["policy"] = {{"poll_interval_ms", 250}};
  j["revocation"] = {{"max_staleness_s", 3}, {"resync_interval_s", 1}, {"user_retention_s", 600}};
  j["federation"] = {{"heartbeat_interval_ms", 1000}};
  j["api"] = {{"decision_cache", false}, {"decision_cache_capacity", 10}, {"pdp_timeout_ms", 150}};
  j["kas_former_urls"] = {"https://old:10000"};
  // seal_ms: read by versions before migration 014 (blocks: nothing to seal), ignored since.
  j["audit"] = {{"seal_ms", 1000}, {"max_batch", 50000}};
  const auto s = ServiceSettings::parse(j, "api");
  EXPECT_EQ(s.bind, "0.0.0.0");
  EXPECT_TRUE(s.hub());
  EXPECT_EQ(s.dir, "/home/x/instances/usa");
  EXPECT_EQ(s.urls.kas, "https://localhost:10000");
  EXPECT_EQ(s.urls.web, "");
  EXPECT_EQ(s.http.max_connections, 1000u);
  EXPECT_DOUBLE_EQ(s.http.shed_idle_at, 1.0);
  EXPECT_EQ(s.database.port, 5442);
  EXPECT_EQ(s.database.pool_min, 0);
  EXPECT_EQ(s.policy.poll_interval, 250ms);
  EXPECT_EQ(s.revocation.max_staleness, 3s);
  EXPECT_EQ(s.revocation.user_retention, 600s);
  EXPECT_EQ(s.federation.heartbeat_interval, 1000ms);
  EXPECT_FALSE(s.api.decision_cache);
  EXPECT_EQ(s.api.decision_cache_capacity, 10u);
  EXPECT_EQ(s.api.pdp_timeout, 150ms);
  EXPECT_EQ(s.api.kas_former_urls, (std::vector<std::string>{"https://old:10000"}));
  EXPECT_EQ(s.audit.max_batch, 10000u) << "one block per append, within the statement timeout";
}

TEST(ServiceSettings, ABadValueStopsTheServiceWithItsKey) {
  auto with = [](const char* section, const char* key, Json v) {
    Json j = minimal("api");
    j[section][key] = std::move(v);
    return j;
  };
  EXPECT_EQ(refusal(with("http", "read_timeout_ms", -5), "api"),
            "instance.json http.read_timeout_ms must be a whole number of milliseconds, at least 1 (got -5)");
  EXPECT_EQ(refusal(with("api", "decision_cache_capacity", 0), "api"),
            "instance.json api.decision_cache_capacity must be a whole number, at least 1 (got 0)");
  EXPECT_EQ(refusal(with("audit", "queue_capacity", 0), "api"),
            "instance.json audit.queue_capacity must be a whole number, at least 1 (got 0)");
  EXPECT_NE(refusal(with("database", "pool_max", 0), "api").find("database.pool_max"), std::string::npos);
  EXPECT_NE(refusal(with("revocation", "resync_interval_s", 0), "api").find("revocation.resync_interval_s"),
            std::string::npos);
  Json pools = minimal("api");
  pools["database"] = {{"pool_min", 4}, {"pool_max", 2}};
  EXPECT_EQ(refusal(pools, "api"),
            "instance.json database.pool_max must be at least database.pool_min (4) (got 2)");
  Json breaker = minimal("api");
  breaker["breakers"]["pdp"]["timeout_ms"] = -1;
  EXPECT_NE(refusal(breaker, "api").find("breakers.pdp.timeout_ms"), std::string::npos);
  EXPECT_EQ(refusal(Json{{"ports", {{"kas", 10000}}}}, "api"), "instance.json has no ports.api");
}

TEST(ServiceSettings, AServicesOwnPartIsReadOnlyForThatService) {
  // A bad api setting does not stop the kas (it reads no api.*), and stops the api.
  Json j = minimal("api");
  j["ports"]["kas"] = 10000;
  j["api"]["kas_timeout_ms"] = 0;
  EXPECT_EQ(refusal(j, "kas"), "");
  EXPECT_NE(refusal(j, "api").find("api.kas_timeout_ms"), std::string::npos);
}
