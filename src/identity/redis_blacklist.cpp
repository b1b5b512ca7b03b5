#include "identity/redis_blacklist.hpp"

#include <spdlog/spdlog.h>

#include "common/strings.hpp"

#include "identity/log_safe.hpp"
#include "resilience/circuit_breaker.hpp"
#include "store/redis_client.hpp"

namespace dive::identity {

namespace {
// KEYS[1] = user-revoked:<uid>, ARGV[1] = threshold ms, ARGV[2] = TTL ms. Only a larger threshold
// replaces the stored one, so concurrent logouts in any order leave the latest.
constexpr const char* kKeepMaxScript = R"LUA(
local cur = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tonumber(ARGV[1]) > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
)LUA";

constexpr size_t kMgetBatch = 200;

}  // namespace

RedisBlacklist::RedisBlacklist(store::RedisClient& redis, resilience::CircuitBreaker& breaker, Clock& clock)
    : redis_(redis), breaker_(breaker), clock_(clock) {}

void RedisBlacklist::push(const RevocationEvent& e, Millis user_retention) {
  const std::string message = e.to_json().dump();
  breaker_.run([&] {
    const int64_t now = clock_.unix_millis();
    if (e.kind == RevocationEvent::Kind::Token) {
      if (e.value * 1000 > now)
        redis_.command({"SET", e.key(), message, "PXAT", std::to_string(e.value * 1000)});
    } else {
      int64_t ttl = e.value + user_retention.count() - now;
      if (ttl > 0)
        redis_.command({"EVAL", kKeepMaxScript, "1", e.key(), std::to_string(e.value), std::to_string(ttl)});
    }
    redis_.publish(std::string(e.channel()), message);
    return 0;
  });
}

std::vector<RevocationEvent> RedisBlacklist::snapshot() {
  return breaker_.run([&] {
    std::vector<RevocationEvent> out;
    for (auto kind : {RevocationEvent::Kind::Token, RevocationEvent::Kind::User}) {
      const std::string_view prefix = kind == RevocationEvent::Kind::Token ? kTokenKeyPrefix : kUserKeyPrefix;
      auto keys = redis_.scan_keys(std::string(prefix) + "*");
      for (size_t i = 0; i < keys.size(); i += kMgetBatch) {
        std::vector<std::string> args{"MGET"};
        const size_t end = std::min(keys.size(), i + kMgetBatch);
        args.insert(args.end(), keys.begin() + static_cast<std::ptrdiff_t>(i),
                    keys.begin() + static_cast<std::ptrdiff_t>(end));
        auto reply = redis_.command(args);
        for (size_t k = 0; k < reply.elements.size() && i + k < end; ++k) {
          const auto& v = reply.elements[k];
          if (v.is_nil()) continue;  // expired between SCAN and MGET
          const std::string id = keys[i + k].substr(prefix.size());
          if (kind == RevocationEvent::Kind::User) {
            if (auto at = parse_int(v.str)) {
              out.push_back(RevocationEvent::user(id, *at, *at, ""));
              continue;
            }
            spdlog::warn("blacklist entry {} has an unexpected value; ignored", log_safe(keys[i + k]));
          } else if (auto ev = RevocationEvent::parse(v.str); ev && ev->kind == kind && ev->id == id) {
            out.push_back(std::move(*ev));
          } else {
            // Not written by us (an operator's SET, say): the jti is revoked all the same, for an hour at a
            // time (the next resync renews it while the key exists).
            out.push_back(RevocationEvent::token(id, clock_.unix_millis() / 1000 + 3600, 0, ""));
          }
        }
      }
    }
    return out;
  });
}

}  // namespace dive::identity
