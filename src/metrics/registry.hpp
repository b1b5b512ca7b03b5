#pragma once
// A metrics registry with Prometheus text exposition (format 0.0.4): counters, gauges and histograms,
// each a family with fixed label names. Updating a metric is lock-free; looking up a labelled child
// takes a mutex, so hot paths keep the reference they get from labels().
//
// Thread-safe, all of it: one registry per process, updated by every thread. Counter, Gauge and Histogram
// are atomics (their bounds fixed at construction); a Family's mutex guards its children, the Registry's
// its families and collectors.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.hpp"

namespace dive::metrics {

class Counter {
 public:
  void inc(double v = 1.0) { value_.fetch_add(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double v = 1.0) { value_.fetch_add(v, std::memory_order_relaxed); }
  void dec(double v = 1.0) { value_.fetch_sub(v, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // sorted, +Inf implied
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound (same length as bounds()), then total count and sum.
  std::vector<uint64_t> cumulative() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // non-cumulative, one per bound
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Default latency buckets in seconds (100 µs .. 10 s).
const std::vector<double>& default_latency_buckets();

enum class Type { Counter, Gauge, Histogram };

template <class M>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> buckets = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        buckets_(std::move(buckets)) {}

  // The child for these label values (created on first use). Throws std::invalid_argument when the
  // number of values does not match the family's label names.
  M& labels(const std::vector<std::string>& values);
  M& labels(std::initializer_list<std::string> values) { return labels(std::vector<std::string>(values)); }
  M& unlabelled() { return labels(std::vector<std::string>{}); }

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Snapshot of (label values, child) pairs for exposition.
  std::vector<std::pair<std::vector<std::string>, const M*>> children() const;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;
  mutable Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_ GUARDED_BY(mu_);
};

class Registry {
 public:
  // Registering an existing name with the same type and label names returns the existing family;
  // a conflicting registration throws std::logic_error.
  Family<Counter>& counter(const std::string& name, const std::string& help,
                           const std::vector<std::string>& labels = {});
  Family<Gauge>& gauge(const std::string& name, const std::string& help,
                       const std::vector<std::string>& labels = {});
  Family<Histogram>& histogram(const std::string& name, const std::string& help,
                               const std::vector<std::string>& labels = {},
                               const std::vector<double>& buckets = default_latency_buckets());

  // Called before every exposition, for values sampled on demand (memory, pool sizes, ages).
  void add_collector(std::function<void()> fn);

  std::string expose() const;  // Prometheus text format
  static Registry& global();   // the process's registry, served at /metrics

 private:
  struct Entry {
    Type type;
    std::shared_ptr<void> family;
  };
  template <class M>
  Family<M>& get_or_add(Type t, const std::string& name, const std::string& help,
                        const std::vector<std::string>& labels, const std::vector<double>& buckets);
  mutable Mutex mu_;
  std::map<std::string, Entry> families_ GUARDED_BY(mu_);
  std::vector<std::function<void()>> collectors_ GUARDED_BY(mu_);
};

// Text escaping of the exposition format (exposed for tests).
std::string escape_label_value(const std::string& v);
std::string escape_help(const std::string& v);
std::string format_value(double v);

}  // namespace dive::metrics
