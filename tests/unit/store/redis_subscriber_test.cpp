#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <vector>

#include "servers.hpp"
#include "store/redis_client.hpp"
#include "store_test_support.hpp"

using namespace dive;
using namespace dive::store;
using namespace std::chrono_literals;
using dive::testing::holds_for;
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

// Captures what is logged through spdlog's default logger while it lives (still writing it where it went
// before). The default logger is not swapped atomically: create the capture before, and destroy it after,
// every thread that may log.
class LogCapture {
 public:
  LogCapture()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)), previous_(spdlog::default_logger()) {
    auto sinks = previous_->sinks();
    sinks.push_back(sink_);
    logger_ = std::make_shared<spdlog::logger>("capture", sinks.begin(), sinks.end());
    spdlog::set_default_logger(logger_);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  // A line that contains both.
  bool has(const std::string& a, const std::string& b) const {
    for (const auto& line : sink_->last_formatted())
      if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) return true;
    return false;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_, logger_;
};

// True when a loopback TCP connection to `port` has bytes its server has not read yet (from /proc/net/tcp:
// the server end is the ESTABLISHED socket whose local port is `port`, rx_queue its unread bytes). A
// connection still waiting in a frozen server's accept queue is listed too.
bool server_has_unread_bytes(uint16_t port) {
  std::ifstream in("/proc/net/tcp");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    const auto colon = local.find(':'), qcolon = queues.find(':');
    if (colon == std::string::npos || qcolon == std::string::npos || state != "01") continue;  // ESTABLISHED
    if (std::stoul(local.substr(colon + 1), nullptr, 16) != port) continue;
    if (std::stoul(queues.substr(qcolon + 1), nullptr, 16) > 0) return true;
  }
  return false;
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
  LogCapture log;
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
  cfg.name = "slow";
  cfg.reconnect = resilience::BackoffPolicy{5000ms, 2.0, 5000ms, 0ms};
  RedisSubscriber slow(cfg, {"c"}, inbox.on_message());
  slow.start();
  // Its first connect failed and it said so: it is (or is about to be) in its 5 s backoff.
  ASSERT_TRUE(wait_until([&] { return log.has("redis 'slow'", "reconnecting with backoff"); }, 5s))
      << "the slow subscriber never failed a connect";
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
  // The AUTH has reached the frozen server: the subscriber is (or is about to be) waiting for its answer.
  EXPECT_TRUE(wait_until([&] { return server_has_unread_bytes(redis.port()); }, 5s))
      << "the AUTH never reached the server";
  EXPECT_FALSE(sub.connected());
  EXPECT_LT(store::test::elapsed_ms([&] { sub.stop(); }), 1000);
  ::kill(redis.pid(), SIGCONT);
}

TEST(RedisSubscriber, WrongPasswordNeverConnects) {
  LogCapture log;
  TestRedis redis;
  Inbox inbox;
  auto cfg = pubsub_config(redis);
  cfg.password = "wrong";
  RedisSubscriber sub(cfg, {"c"}, inbox.on_message(), inbox.on_subscribed());
  sub.start();
  ASSERT_TRUE(wait_until([&] { return log.has("redis 'pubsub'", "authentication failed"); }, 5s))
      << "no refused AUTH within 5 s";
  // A deliberate observation window, not a wait: through several more attempts (backoff 50..300 ms) it must
  // never count as connected or subscribed.
  EXPECT_TRUE(holds_for([&] { return !sub.connected() && inbox.subscribed.load() == 0; }, 300ms, 5ms))
      << "connected or subscribed with a wrong password";
  sub.stop();
}

TEST(RedisSubscriber, RejectsNoChannels) {
  RedisConfig cfg;
  EXPECT_THROW(RedisSubscriber(cfg, {}, [](const std::string&, const std::string&) {}),
               std::invalid_argument);
}
