#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "servers.hpp"
#include "store/redis_client.hpp"
#include "store_test_support.hpp"

using namespace dive;
using namespace dive::store;
using namespace std::chrono_literals;
using dive::testing::TestRedis;
using dive::testing::wait_until;

namespace {

RedisConfig pubsub_config(const TestRedis& r) {
  RedisConfig c;
  c.name = "pubsub";
  c.port = r.port();
  c.password = r.password();
  c.connect_timeout = 500ms;
  c.command_timeout = 500ms;
  c.reconnect = resilience::BackoffPolicy{50ms, 2.0, 300ms, 0ms};
  return c;
}

// Collects what a subscriber hands over.
struct Inbox {
  std::mutex mu;
  std::vector<std::pair<std::string, std::string>> messages;
  std::atomic<int> subscribed{0};

  RedisSubscriber::MessageFn on_message() {
    return [this](const std::string& ch, const std::string& msg) {
      std::lock_guard lk(mu);
      messages.emplace_back(ch, msg);
    };
  }
  std::function<void()> on_subscribed() {
    return [this] { ++subscribed; };
  }
  size_t size() {
    std::lock_guard lk(mu);
    return messages.size();
  }
  std::vector<std::pair<std::string, std::string>> all() {
    std::lock_guard lk(mu);
    return messages;
  }
};

metrics::Registry& quiet_registry() {
  static metrics::Registry r;
  return r;
}

}  // namespace

TEST(RedisSubscriber, ReceivesMessagesOnEveryChannel) {
  TestRedis redis;
  Inbox inbox;
  RedisSubscriber sub(pubsub_config(redis), {"revocations", "config"}, inbox.on_message(),
                      inbox.on_subscribed());
  EXPECT_FALSE(sub.connected());
  sub.start();
  ASSERT_TRUE(wait_until([&] { return sub.connected(); }, 5s));
  EXPECT_EQ(inbox.subscribed.load(), 1);

  RedisClient pub(pubsub_config(redis), &quiet_registry());
  const std::string binary("jti\0\xff\r\n", 7);
  EXPECT_EQ(pub.publish("revocations", "token-1"), 1);
  EXPECT_EQ(pub.publish("config", binary), 1);
  EXPECT_EQ(pub.publish("revocations", "token-2"), 1);
  EXPECT_EQ(pub.publish("elsewhere", "ignored"), 0);
  ASSERT_TRUE(wait_until([&] { return inbox.size() == 3; }, 5s));
  auto got = inbox.all();
  EXPECT_EQ(got[0], std::make_pair(std::string("revocations"), std::string("token-1")));
  EXPECT_EQ(got[1], std::make_pair(std::string("config"), binary));
  EXPECT_EQ(got[2], std::make_pair(std::string("revocations"), std::string("token-2")));
  EXPECT_EQ(sub.reconnects(), 0u);
}

TEST(RedisSubscriber, ResubscribesAfterARestartAndCallsOnSubscribedAgain) {
  TestRedis redis;
  Inbox inbox;
  RedisSubscriber sub(pubsub_config(redis), {"revocations"}, inbox.on_message(), inbox.on_subscribed());
  sub.start();
  ASSERT_TRUE(wait_until([&] { return sub.connected(); }, 5s));

  redis.stop();
  EXPECT_TRUE(wait_until([&] { return !sub.connected(); }, 5s));
  redis.start();
  ASSERT_TRUE(wait_until([&] { return sub.connected() && inbox.subscribed.load() == 2; }, 10s));
  EXPECT_EQ(sub.reconnects(), 1u);

  RedisClient pub(pubsub_config(redis), &quiet_registry());
  EXPECT_EQ(pub.publish("revocations", "after-restart"), 1);
  ASSERT_TRUE(wait_until([&] { return inbox.size() == 1; }, 5s));
  EXPECT_EQ(inbox.all()[0].second, "after-restart");
}

TEST(RedisSubscriber, StopIsPromptConnectedOrNot) {
  TestRedis redis;
  Inbox inbox;
  RedisSubscriber sub(pubsub_config(redis), {"c"}, inbox.on_message());
  sub.start();
  ASSERT_TRUE(wait_until([&] { return sub.connected(); }, 5s));
  EXPECT_LT(store::test::elapsed_ms([&] { sub.stop(); }), 1000);
  EXPECT_FALSE(sub.connected());
  sub.stop();  // idempotent

  // Restartable, and a stop while backing off from a down server is prompt too.
  sub.start();
  ASSERT_TRUE(wait_until([&] { return sub.connected(); }, 5s));
  redis.stop();
  auto cfg = pubsub_config(redis);
  cfg.reconnect = resilience::BackoffPolicy{5000ms, 2.0, 5000ms, 0ms};
  RedisSubscriber slow(cfg, {"c"}, inbox.on_message());
  slow.start();
  std::this_thread::sleep_for(200ms);  // into its 5 s backoff
  EXPECT_FALSE(slow.connected());
  EXPECT_LT(store::test::elapsed_ms([&] { slow.stop(); }), 1000);
  EXPECT_LT(store::test::elapsed_ms([&] { sub.stop(); }), 1000);
}

TEST(RedisSubscriber, FrozenServerDoesNotDelayStop) {
  TestRedis redis;
  Inbox inbox;
  auto cfg = pubsub_config(redis);
  cfg.command_timeout = 5000ms;
  RedisSubscriber sub(cfg, {"c"}, inbox.on_message());
  ::kill(redis.pid(), SIGSTOP);  // connect succeeds (the kernel accepts), AUTH waits for an answer
  sub.start();
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(sub.connected());
  EXPECT_LT(store::test::elapsed_ms([&] { sub.stop(); }), 1000);
  ::kill(redis.pid(), SIGCONT);
}

TEST(RedisSubscriber, WrongPasswordNeverConnects) {
  TestRedis redis;
  Inbox inbox;
  auto cfg = pubsub_config(redis);
  cfg.password = "wrong";
  RedisSubscriber sub(cfg, {"c"}, inbox.on_message(), inbox.on_subscribed());
  sub.start();
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(sub.connected());
  EXPECT_EQ(inbox.subscribed.load(), 0);
  sub.stop();
}

TEST(RedisSubscriber, RejectsNoChannels) {
  RedisConfig cfg;
  EXPECT_THROW(RedisSubscriber(cfg, {}, [](const std::string&, const std::string&) {}),
               std::invalid_argument);
}
