#include "access/authorizer.hpp"

#include <chrono>

#include "metrics/registry.hpp"

namespace dive::access {

Authorizer::Authorizer(PdpClient& pdp, DecisionCache& cache, metrics::Registry* registry)
    : pdp_(pdp), cache_(cache) {
  if (!registry) return;
  auto& decisions = registry->counter("dive_v3_authorization_decisions_total",
                                      "Authorization decisions of this enforcement point", {"decision"});
  m_allow_ = &decisions.labels({"allow"});
  m_deny_ = &decisions.labels({"deny"});
  auto& lat = registry->histogram("dive_v3_authorization_latency_seconds",
                                  "Time to a decision, from the cache or the pdp", {"cached"});
  m_lat_cached_ = &lat.labels({"true"});
  m_lat_pdp_ = &lat.labels({"false"});
  m_hits_ =
      &registry->counter("dive_v3_decision_cache_hits_total", "Decisions served from the cache").unlabelled();
  m_misses_ =
      &registry->counter("dive_v3_decision_cache_misses_total", "Decisions not in the cache").unlabelled();
  DecisionCache* c = &cache_;
  auto& size = registry->gauge("dive_v3_decision_cache_size", "Decisions in the cache").unlabelled();
  registry->add_collector([c, &size] { size.set(static_cast<double>(c->size())); });
}

void Authorizer::count(const Decision& d, bool cached, double seconds) {
  if (!m_allow_) return;
  (d.allow ? m_allow_ : m_deny_)->inc();
  (cached ? m_lat_cached_ : m_lat_pdp_)->observe(seconds);
  (cached ? m_hits_ : m_misses_)->inc();
}

Authorization Authorizer::authorize(const Json& input, const std::string& classification) {
  return authorize(DecisionKey::of(input), classification, [&] { return input; });
}

std::vector<Authorization> Authorizer::authorize_batch(const std::vector<Json>& inputs,
                                                       const std::vector<std::string>& classifications) {
  std::vector<DecisionKey> keys;
  keys.reserve(inputs.size());
  for (const auto& input : inputs) keys.push_back(DecisionKey::of(input));
  return authorize_batch(keys, classifications, [&](size_t i) { return inputs[i]; });
}

Authorization Authorizer::authorize(const DecisionKey& key, const std::string& classification,
                                    const std::function<Json()>& input) {
  auto start = std::chrono::steady_clock::now();
  if (auto hit = cache_.get(key)) {
    count(*hit, true, seconds_between(start, std::chrono::steady_clock::now()));
    return {std::move(hit), true};
  }
  // Throws PdpUnavailable: nothing unexpired was cached.
  auto d = share(pdp_.decide(input()));
  cache_.put(key, d, classification);
  count(*d, false, seconds_between(start, std::chrono::steady_clock::now()));
  return {std::move(d), false};
}

std::vector<Authorization> Authorizer::authorize_batch(const std::vector<DecisionKey>& keys,
                                                       const std::vector<std::string>& classifications,
                                                       const std::function<Json(size_t)>& input) {
  auto start = std::chrono::steady_clock::now();
  std::vector<Authorization> out(keys.size());
  std::vector<size_t> ask;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (auto hit = cache_.get(keys[i])) {
      out[i] = {std::move(hit), true};
      continue;
    }
    ask.push_back(i);
  }
  if (!ask.empty()) {
    std::vector<Json> batch;
    batch.reserve(ask.size());
    for (size_t i : ask) batch.push_back(input(i));
    auto decisions = pdp_.decide_batch(batch);
    for (size_t j = 0; j < ask.size(); ++j) {
      size_t i = ask[j];
      auto d = share(std::move(decisions[j]));
      cache_.put(keys[i], d, classifications.at(i));
      out[i] = {std::move(d), false};
    }
  }
  double secs = seconds_between(start, std::chrono::steady_clock::now());
  for (const auto& a : out) count(*a.decision, a.cached, secs);
  return out;
}

}  // namespace dive::access
