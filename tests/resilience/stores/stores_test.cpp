// Scenarios of docs/RESILIENCE.md for the stores: the instance's PostgreSQL (stopped, killed during
// uploads, hung, partitioned from the api, slow, out of connections) and the hub's blacklist Redis (stopped,
// hung, slow, partitioned, restarted without its data — with a logout issued during the fault enforced by
// the api and the kas after it), each under load on one hub whose api and kas reach both stores through
// fault proxies.
#include <gtest/gtest.h>

#include <iostream>

#include "common/fs.hpp"
#include "scenario.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

class Stores : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { hub_ = new ResilienceHub(/*proxied=*/true); }
  static void TearDownTestSuite() {
    delete hub_;
    hub_ = nullptr;
  }
  static void expect_database_breaker_opens() {
    hub_->expect_breaker_opens("api", "database", 25s);
    EXPECT_EQ(hub_->health_status("api"), "unhealthy");
  }
  // A fault of the blacklist Redis: its breaker opens at the api, a logout is issued meanwhile, and once
  // healed the api and the kas both refuse that logout's token.
  static void blacklist_scenario(const ScenarioSpec& spec, const std::function<void()>& inject,
                                 const std::function<void()>& heal) {
    Revocation rev;
    run_scenario(
        *hub_, spec, inject, heal,
        [&] {
          hub_->expect_breaker_opens("api", "blacklist_redis");
          rev = logout_during_fault();
        },
        [&] { expect_revoked_everywhere(rev, 20s); });
  }

  // A revocation issued while the blacklist cannot be reached: a user (not one of the load's) logs out at
  // the api. After the fault, the api and the kas both refuse that user's token (401).
  struct Revocation {
    std::string token;
  };
  static Revocation logout_during_fault() {
    Json login = hub_->api().login("testuser-usa-2");
    Revocation r{login.is_object() ? login.value("access_token", "") : ""};
    EXPECT_FALSE(r.token.empty());
    auto out = hub_->api().call("api", "POST", "/api/auth/logout", r.token);
    EXPECT_EQ(out.status, 200) << out.body.dump();
    EXPECT_EQ(out.body["details"].value("propagation", ""), "queued")
        << "the blacklist is unreachable: the logout waits in the outbox: " << out.body.dump();
    return r;
  }
  static void expect_revoked_everywhere(const Revocation& r, std::chrono::seconds bound) {
    int api = 0, kas = 0;
    EXPECT_TRUE(wait_until(
        [&] {
          api = hub_->api().call("api", "GET", "/api/resources?limit=1", r.token).status;
          kas = hub_->api().call("kas", "POST", "/request-key", r.token, Json::object()).status;
          return api == 401 && kas == 401;
        },
        bound, 200ms))
        << "api " << api << ", kas " << kas;
  }
  static ResilienceHub* hub_;
};
ResilienceHub* Stores::hub_ = nullptr;

}  // namespace

// ---- PostgreSQL

TEST_F(Stores, PostgresStopped) {
  run_scenario(
      *hub_, {"postgres-stopped", 30s},
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "stop", "postgres"}).exit_code, 0);
      },
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "start", "postgres"}).exit_code, 0);
      },
      [] { expect_database_breaker_opens(); });
}

TEST_F(Stores, PostgresKilledDuringUploadsLosesNothingAcknowledged) {
  ScenarioSpec spec{"postgres-killed-during-uploads", 30s};
  spec.load.workers = 4;  // more uploads in flight when it dies
  run_scenario(
      *hub_, spec, [] { ASSERT_EQ(::kill(hub_->pid_of("postgres"), SIGKILL), 0); },
      [] {
        // The supervisor restarts it (crash recovery replays the WAL).
        EXPECT_TRUE(wait_until([] { return hub_->status("postgres").value("state", "") == "running"; }, 30s));
      });
  // verify_acknowledged_writes() (in run_scenario) read back every upload that was answered 201.
}

TEST_F(Stores, PostgresHung) {
  std::optional<FrozenTree> frozen;
  run_scenario(
      *hub_, {"postgres-hung", 40s}, [&] { frozen.emplace(hub_->pid_of("postgres")); },
      [&] { frozen->thaw(); }, [] { expect_database_breaker_opens(); });
}

TEST_F(Stores, PostgresPartitionedFromTheApi) {
  const double timeouts = hub_->metric("api", "dive_v3_db_query_timeouts_total");
  run_scenario(
      *hub_, {"postgres-partitioned", 30s}, [] { hub_->proxy("postgres").blackhole(); },
      [] {
        // The partition ends; the connections it swallowed die (reset), as they do once a real network
        // heals and the peers' TCP stacks notice. (A black-holed idle connection would otherwise stay dead
        // in the pool until a request finds it so — at the cost of one 503 after the query deadline.)
        hub_->proxy("postgres").reset_all();
        hub_->proxy("postgres").pass();
      },
      [&] {
        expect_database_breaker_opens();
        // Calls already sent were ended by the client-side deadline (nothing else would have ended them).
        EXPECT_TRUE(wait_until(
            [&] { return hub_->metric("api", "dive_v3_db_query_timeouts_total") > timeouts; }, 10s, 200ms))
            << hub_->health("api")["checks"].dump();
      });
}

TEST_F(Stores, PostgresSlow) {
  // 25-75 ms per chunk each way (a database in another region): every request is slower, none fails,
  // nothing opens.
  auto r = run_scenario(
      *hub_, {"postgres-slow", 20s}, [] { hub_->proxy("postgres").latency(25ms, 50ms); },
      [] { hub_->proxy("postgres").pass(); },
      [] {
        const std::string t = hub_->api().token("testuser-usa-5", true);
        for (int i = 0; i < 3; ++i)
          EXPECT_EQ(hub_->api().call("api", "GET", "/api/resources?limit=5", t).status, 200);
        // A window of 3 s under the slow database (the load runs meanwhile): the breaker never opens.
        EXPECT_TRUE(holds_for([] { return hub_->breaker("api", "database").value("state", "") == "CLOSED"; },
                              3s, 200ms))
            << hub_->breaker("api", "database").dump();
      });
  EXPECT_EQ(r.failed, 0u) << "a slow database (within its timeouts) fails nothing";
}

TEST_F(Stores, PostgresOutOfConnections) {
  // Thirty-two workers against a pool of eight connections, each held ~0.6 s a round trip: the pool runs
  // dry; waiters give up after acquire_timeout with 503, and the pool's metrics and health say so. (Calls
  // with many round trips may also pass the query deadline and open the breaker: 503s as well.)
  ScenarioSpec spec{"postgres-pool-exhausted", 30s};
  spec.load.workers = 32;
  spec.load.pace = 20ms;  // bounds the request rate once answers come fast (503s)
  const double exhausted = hub_->metric("api", "dive_v3_db_pool_exhausted_total");
  double waiting_seen = 0, active_seen = 0;
  run_scenario(
      *hub_, spec, [] { hub_->proxy("postgres").latency(300ms); }, [] { hub_->proxy("postgres").pass(); },
      [&] {
        EXPECT_TRUE(wait_until(
            [&] {
              waiting_seen = std::max(waiting_seen, hub_->metric("api", "dive_v3_db_connections_waiting"));
              active_seen = std::max(
                  active_seen, hub_->metric("api", "dive_v3_db_connections_active", "db_type=\"instance\""));
              // A request waits only while every connection is leased (PgPool::acquire): waiters that
              // timed out are the exhaustion, whatever a 100-ms sample of `active` happened to see.
              return hub_->metric("api", "dive_v3_db_pool_exhausted_total") > exhausted && waiting_seen > 0;
            },
            25s, 100ms))
            << active_seen << " connections seen leased at once, " << waiting_seen
            << " waiting at once, and a waiter should have timed out";
        const Json db = hub_->health("api")["checks"]["database"];
        EXPECT_TRUE(db.contains("details") && db["details"].is_object() &&
                    db["details"].value("exhausted", 0) > 0)
            << db.dump();
      });
  std::cout << "pool: " << hub_->metric("api", "dive_v3_db_pool_exhausted_total") - exhausted
            << " requests found no free connection; up to " << waiting_seen << " waiting at once"
            << std::endl;
}

// ---- the blacklist Redis (revocations)

TEST_F(Stores, BlacklistStopped) {
  Revocation rev;
  run_scenario(
      *hub_, {"blacklist-stopped", 20s},
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "stop", "redis-blacklist"}).exit_code, 0);
      },
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "start", "redis-blacklist"}).exit_code, 0);
      },
      [&] {
        EXPECT_TRUE(wait_until([] { return hub_->health_status("api") == "degraded"; }, 20s, 200ms))
            << hub_->health().dump();
        rev = logout_during_fault();
      },
      [&] { expect_revoked_everywhere(rev, 20s); });
}

TEST_F(Stores, BlacklistHung) {
  std::optional<FrozenTree> frozen;
  blacklist_scenario(
      {"blacklist-hung", 30s}, [&] { frozen.emplace(hub_->pid_of("redis-blacklist")); },
      [&] { frozen->thaw(); });
}

TEST_F(Stores, BlacklistSlowerThanItsTimeout) {
  blacklist_scenario(
      {"blacklist-slow", 20s}, [] { hub_->proxy("blacklist").latency(1500ms); },
      [] { hub_->proxy("blacklist").pass(); });
}

TEST_F(Stores, BlacklistPartitioned) {
  blacklist_scenario(
      {"blacklist-partitioned", 20s}, [] { hub_->proxy("blacklist").half_open(); },
      [] { hub_->proxy("blacklist").pass(); });
}

TEST_F(Stores, BlacklistRestartedWithoutItsData) {
  // A revocation made while all is well, then the blacklist comes back empty: the running processes
  // write back what their mirrors hold (docs/REVOCATION.md); nothing is un-revoked.
  Json login = hub_->api().login("testuser-usa-2");
  const std::string token = login.is_object() ? login.value("access_token", "") : "";
  ASSERT_FALSE(token.empty());
  auto out = hub_->api().call("api", "POST", "/api/auth/logout", token);
  ASSERT_EQ(out.status, 200) << out.body.dump();
  // Whichever process resynchronises first writes back what it holds (the api, the kas or the idp).
  auto restored_total = [] {
    double n = 0;
    for (const char* svc : {"api", "kas", "idp"}) n += hub_->metric(svc, "dive_v3_revocation_restored_total");
    return n;
  };
  const double restored = restored_total();
  run_scenario(
      *hub_, {"blacklist-restarted-empty", 20s},
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "stop", "redis-blacklist"}).exit_code, 0);
        const fs::path dir = hub_->cli().home() / "instances" / "usa" / "redis-blacklist";
        int removed = 0;
        for (const auto& e : fs::directory_iterator(dir)) {
          const std::string name = e.path().filename().string();
          if (name.rfind("appendonly", 0) == 0 || name.find(".rdb") != std::string::npos) {
            fs::remove_all(e.path());
            ++removed;
          }
        }
        EXPECT_GT(removed, 0) << "the blacklist's data files in " << dir;
      },
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "start", "redis-blacklist"}).exit_code, 0);
      },
      {},
      [&] {
        EXPECT_TRUE(wait_until([&] { return restored_total() > restored; }, 20s, 250ms))
            << "the mirrors wrote their revocations back";
        expect_revoked_everywhere(Revocation{token}, 20s);
      });
}
