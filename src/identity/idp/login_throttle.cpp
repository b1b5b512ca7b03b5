#include "identity/idp/login_throttle.hpp"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include "common/mutex.hpp"

namespace dive::identity::idp {

namespace {
int positive(const Json& j, const char* key, int fallback) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_number_integer() || j[key].get<int64_t>() < 1 || j[key].get<int64_t>() > 1'000'000)
    throw std::invalid_argument(std::string("instance.json idp.throttle.") + key +
                                " must be an integer from 1 to 1000000");
  return static_cast<int>(j[key].get<int64_t>());
}
}  // namespace

ThrottleConfig ThrottleConfig::from_json(const Json& j) {
  ThrottleConfig c;
  if (!j.is_object()) return c;
  c.max_in_flight = positive(j, "max_in_flight", c.max_in_flight);
  c.account_in_flight = positive(j, "account_in_flight", c.account_in_flight);
  c.account_failures = positive(j, "account_failures", c.account_failures);
  c.source_failures = positive(j, "source_failures", c.source_failures);
  c.window = std::chrono::seconds(positive(j, "window_s", static_cast<int>(c.window.count())));
  return c;
}

std::string_view to_string(LoginThrottle::Limit l) {
  switch (l) {
    case LoginThrottle::Limit::None:
      return "none";
    case LoginThrottle::Limit::Busy:
      return "busy";
    case LoginThrottle::Limit::Account:
      return "account";
    case LoginThrottle::Limit::Source:
      return "source";
  }
  return "none";
}

LoginThrottle::LoginThrottle(ThrottleConfig cfg, Clock& clock) : cfg_(cfg), clock_(clock) {}
LoginThrottle::~LoginThrottle() = default;

LoginThrottle::Ticket::~Ticket() {
  throttle_.release(account_, source_, failed_);
}

void LoginThrottle::Ticket::failed() {
  failed_ = true;
}

LoginThrottle::Track& LoginThrottle::track(Map& map, std::list<std::string>& lru, const std::string& key) {
  auto it = map.find(key);
  if (it != map.end()) {
    lru.splice(lru.begin(), lru, it->second.lru);
    return it->second;
  }
  if (map.size() >= cfg_.max_tracked) forget_idle(map, lru);
  lru.push_front(key);
  Track& t = map[key];
  t.lru = lru.begin();
  return t;
}

// Drops the least recently used entries that have nothing in flight (at most a few per call).
void LoginThrottle::forget_idle(Map& map, std::list<std::string>& lru) {
  int dropped = 0;
  for (auto it = lru.end(); it != lru.begin() && dropped < 4;) {
    --it;
    auto m = map.find(*it);
    if (m != map.end() && m->second.in_flight > 0) continue;
    if (m != map.end()) map.erase(m);
    it = lru.erase(it);
    ++dropped;
  }
}

void LoginThrottle::prune(Track& t, SteadyTime now) const {
  while (!t.failures.empty() && now - t.failures.front() >= cfg_.window) t.failures.pop_front();
}

int LoginThrottle::retry_after(const Track& t, SteadyTime now) const {
  if (t.failures.empty()) return 1;
  auto left = std::chrono::duration_cast<std::chrono::seconds>(cfg_.window - (now - t.failures.front()));
  return static_cast<int>(std::max<int64_t>(1, left.count() + 1));
}

LoginThrottle::Admission LoginThrottle::admit(const std::string& account, const std::string& source) {
  const SteadyTime now = clock_.now();
  Admission a;
  MutexLock lock(mu_);
  if (in_flight_ >= cfg_.max_in_flight) {
    a.limit = Limit::Busy;
    a.retry_after_s = 1;
    return a;
  }
  Track& src = track(sources_, source_lru_, source);
  prune(src, now);
  if (static_cast<int>(src.failures.size()) + src.in_flight >= cfg_.source_failures) {
    a.limit = Limit::Source;
    a.retry_after_s = retry_after(src, now);
    return a;
  }
  Track& acc = track(accounts_, account_lru_, account);
  prune(acc, now);
  if (acc.in_flight >= cfg_.account_in_flight) {
    a.limit = Limit::Account;
    a.retry_after_s = 1;
    return a;
  }
  if (static_cast<int>(acc.failures.size()) >= cfg_.account_failures) {
    a.limit = Limit::Account;
    a.retry_after_s = retry_after(acc, now);
    return a;
  }
  ++in_flight_;
  ++src.in_flight;
  ++acc.in_flight;
  a.ticket = std::make_unique<Ticket>(Key{}, *this, account, source);
  return a;
}

void LoginThrottle::release(const std::string& account, const std::string& source, bool failed) {
  const SteadyTime now = clock_.now();
  MutexLock lock(mu_);
  --in_flight_;
  for (auto [map, key, limit] : {std::tuple{&sources_, &source, cfg_.source_failures},
                                 std::tuple{&accounts_, &account, cfg_.account_failures}}) {
    auto it = map->find(*key);
    if (it == map->end()) continue;
    Track& t = it->second;
    --t.in_flight;
    if (!failed) continue;
    prune(t, now);
    t.failures.push_back(now);
    while (static_cast<int>(t.failures.size()) > limit) t.failures.pop_front();
  }
}

int LoginThrottle::in_flight() const {
  MutexLock lock(mu_);
  return in_flight_;
}

}  // namespace dive::identity::idp
