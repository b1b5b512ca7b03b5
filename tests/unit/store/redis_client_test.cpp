#include "store/redis_client.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <set>
#include <thread>

#include "servers.hpp"
#include "store_test_support.hpp"

using namespace dive;
using namespace dive::store;
using namespace std::chrono_literals;
using dive::testing::TestRedis;
using dive::testing::wait_until;

namespace {

RedisConfig config(const TestRedis& r, const std::string& name = "redis") {
  RedisConfig c;
  c.name = name;
  c.port = r.port();
  c.password = r.password();
  c.connect_timeout = 500ms;
  c.command_timeout = 500ms;
  c.pool_size = 2;
  c.reconnect = resilience::BackoffPolicy{300ms, 2.0, 600ms, 0ms};
  return c;
}

}  // namespace

class RedisClientTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { redis_ = new TestRedis(); }
  static void TearDownTestSuite() {
    delete redis_;
    redis_ = nullptr;
  }
  static TestRedis* redis_;
  metrics::Registry registry_;
};
TestRedis* RedisClientTest::redis_ = nullptr;

TEST_F(RedisClientTest, AuthenticatesAndPings) {
  RedisClient client(config(*redis_), &registry_);
  EXPECT_FALSE(client.connected());  // lazy: nothing opened before the first call
  EXPECT_TRUE(client.ping());
  EXPECT_TRUE(client.connected());
  EXPECT_NE(registry_.expose().find("dive_v3_redis_connected{name=\"redis\"} 1\n"), std::string::npos);
}

TEST_F(RedisClientTest, ExportsItsPoolInUseIdleAndMaximum) {
  auto gauge = [&](const std::string& name) {
    const std::string text = registry_.expose();
    const std::string key = name + "{name=\"pool\"} ";
    auto at = text.find(key);
    return at == std::string::npos ? -1.0 : std::stod(text.substr(at + key.size()));
  };
  {
    RedisClient client(config(*redis_, "pool"), &registry_);
    EXPECT_EQ(gauge("dive_v3_redis_connections_max"), 2);
    EXPECT_EQ(gauge("dive_v3_redis_connections_active"), 0);
    ASSERT_TRUE(client.ping());
    EXPECT_EQ(gauge("dive_v3_redis_connections_active"), 0);
    EXPECT_EQ(gauge("dive_v3_redis_connections_idle"), 1);
    // A command that blocks on the server (BLPOP on an empty list, 0.4 s) holds its connection.
    std::thread blocked([&] { client.command({"BLPOP", "dive-test-empty-list", "0.4"}); });
    EXPECT_TRUE(wait_until([&] { return gauge("dive_v3_redis_connections_active") == 1; }, 2s));
    blocked.join();
    EXPECT_EQ(gauge("dive_v3_redis_connections_active"), 0);
    EXPECT_GE(gauge("dive_v3_redis_connections_idle"), 1);
  }
  // A client that is gone counts for nothing.
  EXPECT_EQ(gauge("dive_v3_redis_connections_max"), 0);
  EXPECT_EQ(gauge("dive_v3_redis_connections_idle"), 0);
}

TEST_F(RedisClientTest, WrongPasswordIsUnavailableWithAClearMessageAndNoSecret) {
  auto cfg = config(*redis_, "blacklist");
  cfg.password = "not-the-password-42";
  RedisClient client(cfg, &registry_);
  try {
    client.command({"PING"});
    FAIL() << "a wrong password must not pass";
  } catch (const RedisUnavailable& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("authentication failed"), std::string::npos) << what;
    EXPECT_NE(what.find("redis 'blacklist' at 127.0.0.1:"), std::string::npos) << what;
    EXPECT_EQ(what.find(cfg.password), std::string::npos) << what;
    EXPECT_EQ(what.find(redis_->password()), std::string::npos) << what;
  }
  EXPECT_FALSE(client.ping());
  EXPECT_FALSE(client.connected());
  EXPECT_EQ(registry_.expose().find("dive_v3_redis_errors_total{name=\"blacklist\"} 0\n"), std::string::npos);
}

TEST_F(RedisClientTest, MissingPasswordIsUnavailable) {
  auto cfg = config(*redis_);
  cfg.password.clear();
  RedisClient client(cfg, &registry_);
  EXPECT_THROW(client.command({"GET", "x"}), RedisUnavailable);
}

TEST_F(RedisClientTest, GetSetTtlDel) {
  RedisClient client(config(*redis_), &registry_);
  client.set("gsd:k", "v1");
  EXPECT_EQ(client.get("gsd:k"), "v1");
  EXPECT_EQ(client.get("gsd:missing"), std::nullopt);
  client.set("gsd:k", "v2");
  EXPECT_EQ(client.get("gsd:k"), "v2");
  EXPECT_EQ(client.command({"PTTL", "gsd:k"}).integer, -1);  // no ttl

  client.set("gsd:ttl", "soon gone", 1000ms);
  const auto pttl = client.command({"PTTL", "gsd:ttl"}).integer;
  EXPECT_GT(pttl, 0);
  EXPECT_LE(pttl, 1000);
  EXPECT_TRUE(wait_until([&] { return !client.get("gsd:ttl").has_value(); }, 5s));
  EXPECT_THROW(client.set("gsd:k", "v", 0ms), std::invalid_argument);

  EXPECT_TRUE(client.del("gsd:k"));
  EXPECT_FALSE(client.del("gsd:k"));
  EXPECT_EQ(client.get("gsd:k"), std::nullopt);
}

TEST_F(RedisClientTest, ValuesAndKeysAreBinarySafe) {
  RedisClient client(config(*redis_), &registry_);
  std::string value("a\0b\r\n*3\r\n\xff\xfe end", 15);
  std::string key("bin:\0key with spaces", 20);
  client.set(key, value);
  auto got = client.get(key);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, value);
  EXPECT_EQ(got->size(), 15u);
  EXPECT_EQ(client.command({"STRLEN", key}).integer, 15);
}

TEST_F(RedisClientTest, ErrorReplyIsRedisErrorAndTheClientCarriesOn) {
  RedisClient client(config(*redis_, "errs"), &registry_);
  client.set("err:str", "text");
  try {
    client.command({"INCR", "err:str"});
    FAIL() << "INCR on text must fail";
  } catch (const RedisUnavailable&) {
    FAIL() << "an error reply is not unavailability";
  } catch (const RedisError& e) {
    EXPECT_NE(std::string(e.what()).find("not an integer"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(client.ping());
  EXPECT_NE(registry_.expose().find("dive_v3_redis_errors_total{name=\"errs\"} 1\n"), std::string::npos)
      << registry_.expose();
}

TEST_F(RedisClientTest, PublishCountsReceivers) {
  RedisClient client(config(*redis_), &registry_);
  EXPECT_EQ(client.publish("nobody-listens", "hello"), 0);
}

TEST_F(RedisClientTest, ScanKeysFindsEveryMatchWithoutKeys) {
  RedisClient client(config(*redis_), &registry_);
  for (int i = 0; i < 1200; ++i) client.set("scan:" + std::to_string(i), "x");
  client.set("other:1", "x");
  auto keys = client.scan_keys("scan:*", 100);
  EXPECT_EQ(keys.size(), 1200u);
  std::set<std::string> unique(keys.begin(), keys.end());
  EXPECT_EQ(unique.size(), 1200u);
  EXPECT_EQ(unique.count("scan:1199"), 1u);
  EXPECT_EQ(unique.count("other:1"), 0u);
  EXPECT_TRUE(client.scan_keys("none:*").empty());
}

TEST_F(RedisClientTest, ConcurrentCallersShareThePool) {
  RedisClient client(config(*redis_), &registry_);
  client.del("conc:n");
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) client.command({"INCR", "conc:n"});
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(client.get("conc:n"), "600");
}

// A server of its own: these tests stop, start and freeze it.
class RedisOutageTest : public ::testing::Test {
 protected:
  TestRedis redis_;
  metrics::Registry registry_;
};

TEST_F(RedisOutageTest, StoppedServerFailsFastAndTheClientRecovers) {
  auto cfg = config(redis_);
  cfg.reconnect = resilience::BackoffPolicy{1000ms, 2.0, 1000ms, 0ms};
  RedisClient client(cfg, &registry_);
  client.set("k", "before");
  ASSERT_TRUE(client.connected());

  redis_.stop();
  // The server's FIN reaches the idle pooled connection asynchronously (a forked AOF child can hold the
  // socket a moment longer than the server itself), so give it a bounded time to be noticed.
  EXPECT_TRUE(wait_until([&] { return !client.connected(); }, 3s));
  EXPECT_THROW(client.get("k"), RedisUnavailable);
  // Backing off: the next calls fail at once, without trying to connect.
  EXPECT_LT(store::test::elapsed_ms([&] {
              try {
                client.get("k");
                ADD_FAILURE() << "server is down";
              } catch (const RedisUnavailable& e) {
                EXPECT_NE(std::string(e.what()).find("next connect attempt"), std::string::npos) << e.what();
              }
            }),
            500);
  EXPECT_FALSE(client.ping());
  EXPECT_EQ(registry_.expose().find("dive_v3_redis_errors_total{name=\"redis\"} 0\n"), std::string::npos);
  EXPECT_NE(registry_.expose().find("dive_v3_redis_connected{name=\"redis\"} 0\n"), std::string::npos);

  redis_.start();
  EXPECT_TRUE(wait_until([&] { return client.ping(); }, 5s));
  client.set("k", "after");
  EXPECT_EQ(client.get("k"), "after");
  EXPECT_TRUE(client.connected());
}

TEST_F(RedisOutageTest, FrozenServerTimesOut) {
  RedisClient client(config(redis_), &registry_);
  ASSERT_TRUE(client.ping());
  ::kill(redis_.pid(), SIGSTOP);
  try {
    client.command({"PING"});
    ADD_FAILURE() << "a frozen server cannot answer";
  } catch (const RedisUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("no reply within 500 ms"), std::string::npos) << e.what();
  }
  ::kill(redis_.pid(), SIGCONT);
  EXPECT_TRUE(wait_until([&] { return client.ping(); }, 5s));
}

TEST(RedisNoServer, NothingListeningIsUnavailable) {
  metrics::Registry registry;
  RedisConfig cfg;
  cfg.port = dive::testing::free_port();
  RedisClient client(cfg, &registry);
  try {
    client.command({"PING"});
    FAIL();
  } catch (const RedisUnavailable& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
  }
}
