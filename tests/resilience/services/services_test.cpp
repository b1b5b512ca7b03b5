// Scenarios of docs/RESILIENCE.md for the services an api depends on — the pdp, the kas, the idp — and the
// instance Redis, each under load on one hub whose api and kas reach their dependencies through fault
// proxies: stopped, hung (every process of it SIGSTOPped), slow beyond its timeout, killed during a burst.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include "scenario.hpp"

using namespace dive;
using namespace dive::testing;
using namespace std::chrono_literals;

namespace {

class Services : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { hub_ = new ResilienceHub(/*proxied=*/true); }
  static void TearDownTestSuite() {
    delete hub_;
    hub_ = nullptr;
  }
  static bool breaker_open(const std::string& name) { return hub_->breaker_open("api", name); }
  static Json breaker(const std::string& name) { return hub_->breaker("api", name); }
  // Polls the api's verdict and one check of it until both are as expected (bounded).
  static void expect_api_health(const std::string& status, const std::string& check, const std::string& up) {
    Json h;
    EXPECT_TRUE(wait_until(
        [&] {
          h = hub_->health("api");
          return h.value("status", "") == status && h["checks"].contains(check) &&
                 h["checks"][check].value("status", "") == up;
        },
        20s, 200ms))
        << "api health should be " << status << " with " << check << " " << up << ": " << h.dump();
  }
  static ResilienceHub* hub_;
};
ResilienceHub* Services::hub_ = nullptr;

}  // namespace

TEST_F(Services, PdpStopped) {
  run_scenario(
      *hub_, {"pdp-stopped", 20s},
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "stop", "pdp"}).exit_code, 0);
      },
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "start", "pdp"}).exit_code, 0);
      },
      [] {
        // No decision without the pdp: unhealthy, and its breaker opens under the load.
        expect_api_health("unhealthy", "pdp", "down");
        EXPECT_TRUE(wait_until([] { return breaker_open("pdp"); }, 20s, 200ms)) << breaker("pdp").dump();
      });
}

TEST_F(Services, PdpHung) {
  std::optional<FrozenTree> frozen;
  run_scenario(
      *hub_, {"pdp-hung", 30s}, [&] { frozen.emplace(hub_->pid_of("pdp")); }, [&] { frozen->thaw(); },
      [] {
        // Calls wait at most the pdp timeout, then the breaker answers at once.
        EXPECT_TRUE(wait_until([] { return breaker_open("pdp"); }, 20s, 200ms)) << breaker("pdp").dump();
        EXPECT_EQ(hub_->health_status("api"), "unhealthy");
      });
}

TEST_F(Services, PdpSlowerThanItsTimeout) {
  run_scenario(
      *hub_, {"pdp-slow", 20s}, [] { hub_->proxy("pdp").latency(2500ms, 200ms); },
      [] { hub_->proxy("pdp").pass(); },
      [] {
        EXPECT_TRUE(wait_until([] { return breaker_open("pdp"); }, 20s, 200ms)) << breaker("pdp").dump();
      });
}

TEST_F(Services, KasStopped) {
  run_scenario(
      *hub_, {"kas-stopped", 20s},
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "stop", "kas"}).exit_code, 0);
      },
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "start", "kas"}).exit_code, 0);
      },
      [] {
        // Metadata and lists need no key: they keep working; key requests are refused with a reason.
        expect_api_health("degraded", "kas", "down");
        const std::string t = hub_->api().token("testuser-usa-5", true);
        EXPECT_EQ(hub_->api().call("api", "GET", "/api/resources?limit=5", t).status, 200);
        EXPECT_TRUE(wait_until([] { return breaker_open("kas"); }, 20s, 200ms)) << breaker("kas").dump();
      });
}

TEST_F(Services, KasHung) {
  std::optional<FrozenTree> frozen;
  run_scenario(
      *hub_, {"kas-hung", 30s}, [&] { frozen.emplace(hub_->pid_of("kas")); }, [&] { frozen->thaw(); },
      [] {
        EXPECT_TRUE(wait_until([] { return breaker_open("kas"); }, 25s, 200ms)) << breaker("kas").dump();
        const std::string t = hub_->api().token("testuser-usa-5", true);
        EXPECT_EQ(hub_->api().call("api", "GET", "/api/resources?limit=5", t).status, 200);
      });
}

TEST_F(Services, IdpStoppedExistingTokensKeepWorkingAndLoginsFailFast) {
  run_scenario(
      *hub_, {"idp-stopped", 20s},
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "stop", "idp"}).exit_code, 0);
      },
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "start", "idp"}).exit_code, 0);
      },
      [] {
        // The load's tokens are validated with the keys the api holds; a login has nowhere to go: the
        // client is refused at once (no answer), never left waiting.
        expect_api_health("degraded", "idp", "down");
        try {
          auto r = hub_->api().oidc_post("token", {{"grant_type", "password"},
                                                   {"client_id", "dive-cli"},
                                                   {"username", "testuser-usa-1"},
                                                   {"password", "wrong"}});
          ADD_FAILURE() << "nothing listens on the idp's port, yet it answered " << r.status;
        } catch (const net::TransportError& e) {
          EXPECT_EQ(e.kind(), net::TransportError::Kind::Connect) << e.what();
        }
      });
}

TEST_F(Services, IdpKilledDuringALoginBurst) {
  const std::string password = hub_->api().secrets().value("test_user_password", "");
  ASSERT_FALSE(password.empty()) << "the deployment's test-user password";
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, refused{0}, unanswered{0}, leaked{0};
  std::mutex mu;
  std::string first_refusal;
  std::vector<std::thread> burst;
  auto login = [&](const std::string& user) {
    while (!stop) {
      ApiReply good;
      try {
        good = hub_->api().oidc_post("token", {{"grant_type", "password"},
                                               {"client_id", "dive-cli"},
                                               {"username", user},
                                               {"password", password}});
      } catch (const net::TransportError&) {
        good.status = 0;  // killed mid-request, or not listening yet
      }
      if (good.status == 200)
        ++ok;
      else if (good.status == 0 || good.status == 503 || good.status == 429)
        ++unanswered;  // killed mid-request, restarting, or throttled: never a token
      else {
        ++refused;
        std::lock_guard lk(mu);
        if (first_refusal.empty()) first_refusal = std::to_string(good.status) + " " + good.body.dump();
      }
      if (good.status == 200 && !good.body.contains("access_token")) ++leaked;
    }
  };
  run_scenario(
      *hub_, {"idp-killed-during-logins", 30s},
      [&] {
        for (const char* u : {"testuser-usa-1", "testuser-usa-2"}) burst.emplace_back(login, u);
        ASSERT_TRUE(wait_until([&] { return ok >= 4; }, 20s)) << "the burst logs in before the kill";
        ASSERT_EQ(::kill(hub_->pid_of("idp"), SIGKILL), 0);
      },
      [&] {
        const int before = ok;
        EXPECT_TRUE(wait_until([&] { return ok >= before + 4; }, 30s)) << "logins work again";
        stop = true;
        for (auto& t : burst) t.join();
      });
  std::cout << "idp login burst: " << ok << " ok, " << unanswered << " unanswered/503/429, " << refused
            << " refused" << std::endl;
  EXPECT_EQ(refused, 0) << "a good password is never refused, only left unanswered while the idp restarts; "
                        << "the first refusal: " << first_refusal;
  EXPECT_EQ(leaked, 0);
}

TEST_F(Services, InstanceRedisStoppedChangesNothing) {
  run_scenario(
      *hub_, {"instance-redis-stopped", 10s},
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "stop", "redis"}).exit_code, 0);
      },
      [] {
        ASSERT_EQ(hub_->cli().run({"hub", "start", "redis"}).exit_code, 0);
      },
      [] {
        // No request path uses it (docs/RESILIENCE.md): the api stays healthy throughout.
        hub_->expect_health_holds("api", "healthy", 3s);
        EXPECT_EQ(hub_->status("redis")["state"], "stopped");
      });
}

TEST_F(Services, InstanceRedisHungChangesNothing) {
  std::optional<FrozenTree> frozen;
  run_scenario(
      *hub_, {"instance-redis-hung", 20s}, [&] { frozen.emplace(hub_->pid_of("redis")); },
      [&] { frozen->thaw(); }, [] { hub_->expect_health_holds("api", "healthy", 3s); });
}
