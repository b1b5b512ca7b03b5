#include "net/server_metrics.hpp"

#include <array>

namespace dive::net::detail {

ServerMetrics::ServerMetrics(metrics::Registry& registry, std::string service, size_t threads)
    : service_(std::move(service)) {
  requests_ = &registry.counter("dive_v3_http_requests_total", "HTTP requests served",
                                {"service", "route", "method", "status"});
  durations_ =
      &registry.histogram("dive_v3_http_request_duration_seconds",
                          "Time from the first byte of a request to its response", {"service", "route"});
  connections_ = &registry.gauge("dive_v3_http_connections_active", "Open HTTP connections", {"service"})
                      .labels({service_});
  auto& shed = registry.counter("dive_v3_http_connections_shed_total",
                                "Connections the server closed for lack of room, by reason (idle, limit)",
                                {"service", "reason"});
  shed_idle_ = &shed.labels({service_, "idle"});
  shed_limit_ = &shed.labels({service_, "limit"});
  caches_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) caches_.push_back(std::make_unique<Cache>());
}

std::string_view ServerMetrics::method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kKnown{"GET",   "HEAD",    "POST",    "PUT",  "DELETE",
                                                          "PATCH", "OPTIONS", "CONNECT", "TRACE"};
  for (auto m : kKnown)
    if (m == method) return m;
  return "OTHER";
}

void ServerMetrics::record(size_t thread, std::string_view route, std::string_view method, int status,
                           double seconds) {
  Cache& c = *caches_[thread];
  if (route.empty()) route = "unmatched";
  std::string_view m = method_label(method);
  auto key = std::make_tuple(route, m, status);
  auto it = c.counters.find(key);
  if (it == c.counters.end()) {
    auto* counter =
        &requests_->labels({service_, std::string(route), std::string(m), std::to_string(status)});
    it = c.counters.emplace(Key{std::string(route), m, status}, counter).first;
  }
  it->second->inc();
  auto hit = c.histograms.find(route);
  if (hit == c.histograms.end())
    hit = c.histograms.emplace(std::string(route), &durations_->labels({service_, std::string(route)})).first;
  hit->second->observe(seconds);
}

}  // namespace dive::net::detail
