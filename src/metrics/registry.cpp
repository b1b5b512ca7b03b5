#include "metrics/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "common/mutex.hpp"

namespace dive::metrics {

Histogram::Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  if (!bounds_.empty() && std::isinf(bounds_.back())) bounds_.pop_back();
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size());
  for (size_t i = 0; i < bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  if (it != bounds_.end())
    buckets_[static_cast<size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<uint64_t> Histogram::cumulative() const {
  std::vector<uint64_t> out(bounds_.size());
  uint64_t acc = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    acc += buckets_[i].load(std::memory_order_relaxed);
    out[i] = acc;
  }
  return out;
}

const std::vector<double>& default_latency_buckets() {
  static const std::vector<double> b{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return b;
}

namespace {
template <class M>
std::unique_ptr<M> make_child(const std::vector<double>&) {
  return std::make_unique<M>();
}
template <>
std::unique_ptr<Histogram> make_child<Histogram>(const std::vector<double>& buckets) {
  return std::make_unique<Histogram>(buckets);
}
}  // namespace

template <class M>
M& Family<M>::labels(const std::vector<std::string>& values) {
  if (values.size() != label_names_.size())
    throw std::invalid_argument("metric " + name_ + " takes " + std::to_string(label_names_.size()) +
                                " label(s), got " + std::to_string(values.size()));
  MutexLock lock(mu_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  auto& slot = children_[values];
  slot = make_child<M>(buckets_);
  return *slot;
}

template <class M>
std::vector<std::pair<std::vector<std::string>, const M*>> Family<M>::children() const {
  MutexLock lock(mu_);
  std::vector<std::pair<std::vector<std::string>, const M*>> out;
  out.reserve(children_.size());
  for (const auto& [k, v] : children_) out.emplace_back(k, v.get());
  return out;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

template <class M>
Family<M>& Registry::get_or_add(Type t, const std::string& name, const std::string& help,
                                const std::vector<std::string>& labels, const std::vector<double>& buckets) {
  MutexLock lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    auto* fam = static_cast<Family<M>*>(it->second.family.get());
    if (it->second.type != t || fam->label_names() != labels)
      throw std::logic_error("metric " + name + " registered twice with different type or labels");
    return *fam;
  }
  auto fam = std::make_shared<Family<M>>(name, help, labels, buckets);
  families_[name] = Entry{t, fam};
  return *fam;
}

Family<Counter>& Registry::counter(const std::string& name, const std::string& help,
                                   const std::vector<std::string>& labels) {
  return get_or_add<Counter>(Type::Counter, name, help, labels, {});
}
Family<Gauge>& Registry::gauge(const std::string& name, const std::string& help,
                               const std::vector<std::string>& labels) {
  return get_or_add<Gauge>(Type::Gauge, name, help, labels, {});
}
Family<Histogram>& Registry::histogram(const std::string& name, const std::string& help,
                                       const std::vector<std::string>& labels,
                                       const std::vector<double>& buckets) {
  return get_or_add<Histogram>(Type::Histogram, name, help, labels, buckets);
}

void Registry::add_collector(std::function<void()> fn) {
  MutexLock lock(mu_);
  collectors_.push_back(std::move(fn));
}

std::string escape_label_value(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

namespace {
std::string label_block(const std::vector<std::string>& names, const std::vector<std::string>& values,
                        const std::string& extra_name = "", const std::string& extra_value = "") {
  if (names.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ",";
    first = false;
    out += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    if (!first) out += ",";
    out += extra_name + "=\"" + escape_label_value(extra_value) + "\"";
  }
  return out + "}";
}
}  // namespace

std::string Registry::expose() const {
  std::vector<std::function<void()>> collectors;
  std::map<std::string, Entry> families;
  {
    MutexLock lock(mu_);
    collectors = collectors_;
    families = families_;
  }
  for (auto& c : collectors) c();
  std::string out;
  out.reserve(4096);
  for (const auto& [name, entry] : families) {
    // `name` is passed, not captured: clang before 16 cannot capture a structured binding.
    auto header = [&out](const std::string& family, const std::string& help, const char* type) {
      out += "# HELP " + family + " " + escape_help(help) + "\n# TYPE " + family + " " + type + "\n";
    };
    if (entry.type == Type::Counter || entry.type == Type::Gauge) {
      bool counter = entry.type == Type::Counter;
      if (counter) {
        auto* fam = static_cast<Family<Counter>*>(entry.family.get());
        header(name, fam->help(), "counter");
        for (auto& [vals, c] : fam->children())
          out += name + label_block(fam->label_names(), vals) + " " + format_value(c->value()) + "\n";
      } else {
        auto* fam = static_cast<Family<Gauge>*>(entry.family.get());
        header(name, fam->help(), "gauge");
        for (auto& [vals, g] : fam->children())
          out += name + label_block(fam->label_names(), vals) + " " + format_value(g->value()) + "\n";
      }
    } else {
      auto* fam = static_cast<Family<Histogram>*>(entry.family.get());
      header(name, fam->help(), "histogram");
      for (auto& [vals, h] : fam->children()) {
        // Observations racing with this read may leave count a little behind the buckets: the +Inf
        // bucket and _count use the larger of the two, so the series stays monotonic.
        uint64_t count = h->count();
        double sum = h->sum();
        auto cum = h->cumulative();
        for (size_t i = 0; i < cum.size(); ++i)
          out += name + "_bucket" +
                 label_block(fam->label_names(), vals, "le", format_value(h->bounds()[i])) + " " +
                 std::to_string(cum[i]) + "\n";
        uint64_t total = std::max(count, cum.empty() ? 0 : cum.back());
        out += name + "_bucket" + label_block(fam->label_names(), vals, "le", "+Inf") + " " +
               std::to_string(total) + "\n";
        out += name + "_sum" + label_block(fam->label_names(), vals) + " " + format_value(sum) + "\n";
        out += name + "_count" + label_block(fam->label_names(), vals) + " " + std::to_string(total) + "\n";
      }
    }
  }
  return out;
}

Registry& Registry::global() {
  static Registry r;
  return r;
}

}  // namespace dive::metrics
