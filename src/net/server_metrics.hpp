#pragma once
// The server's HTTP metrics with per-I/O-thread caches of the labelled children, so that recording a request
// takes no lock and allocates nothing once a (route, method, status) combination has been seen.
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "metrics/registry.hpp"

namespace dive::net::detail {

class ServerMetrics {
 public:
  ServerMetrics(metrics::Registry& registry, std::string service, size_t threads);
  // Called on I/O thread `thread` only (each thread has its own cache). route: the matched pattern, or ""
  // for "unmatched"; method: any string (unknown methods are reported as "OTHER").
  void record(size_t thread, std::string_view route, std::string_view method, int status, double seconds);
  metrics::Gauge& connections() { return *connections_; }
  // Connections closed by the server for lack of room: reason "idle" (an idle keep-alive connection shed
  // for a new one) or "limit" (a new connection refused at the cap with nothing idle to shed).
  metrics::Counter& shed(bool idle) { return idle ? *shed_idle_ : *shed_limit_; }

  static std::string_view method_label(std::string_view method);

 private:
  using Key = std::tuple<std::string, std::string_view, int>;  // route, method label (static), status
  struct KeyLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      if (std::string_view(std::get<0>(a)) != std::string_view(std::get<0>(b)))
        return std::string_view(std::get<0>(a)) < std::string_view(std::get<0>(b));
      if (std::get<1>(a) != std::get<1>(b)) return std::get<1>(a) < std::get<1>(b);
      return std::get<2>(a) < std::get<2>(b);
    }
  };
  struct Cache {
    std::map<Key, metrics::Counter*, KeyLess> counters;
    std::map<std::string, metrics::Histogram*, std::less<>> histograms;
  };
  std::string service_;
  metrics::Family<metrics::Counter>* requests_;
  metrics::Family<metrics::Histogram>* durations_;
  metrics::Gauge* connections_;
  metrics::Counter* shed_idle_;
  metrics::Counter* shed_limit_;
  std::vector<std::unique_ptr<Cache>> caches_;
};

}  // namespace dive::net::detail
