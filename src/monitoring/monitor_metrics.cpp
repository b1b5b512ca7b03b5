#include "monitoring/monitor_metrics.hpp"

#include <map>

#include "metrics/registry.hpp"

namespace dive::monitoring {

namespace {
// Prometheus text for families whose series are known only at scrape time.
class Text {
 public:
  void family(const std::string& name, const std::string& type, const std::string& help) {
    out_ += "# HELP " + name + " " + metrics::escape_help(help) + "\n# TYPE " + name + " " + type + "\n";
  }
  void sample(const std::string& name, const std::vector<std::pair<std::string, std::string>>& labels,
              double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += "{";
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ",";
        out_ += labels[i].first + "=\"" + metrics::escape_label_value(labels[i].second) + "\"";
      }
      out_ += "}";
    }
    out_ += " " + metrics::format_value(value) + "\n";
  }
  std::string str() && { return std::move(out_); }

 private:
  std::string out_;
};

int breaker_value(const std::string& state) {
  return state == "OPEN" ? 2 : state == "HALF_OPEN" ? 1 : 0;
}
}  // namespace

std::string supervisor_metrics(const std::vector<SupervisorSample>& samples) {
  Text t;
  t.family("dive_v3_supervisor_up", "gauge",
           "1 when the instance's supervisor answers on its control socket");
  for (const auto& s : samples)
    t.sample("dive_v3_supervisor_up", {{"instance_code", s.code}}, s.status ? 1 : 0);

  struct Child {
    std::string code, name;
    Json j;
  };
  std::vector<Child> children;
  for (const auto& s : samples) {
    if (!s.status) continue;
    for (const auto& c : s.status->value("services", Json::array()))
      children.push_back({s.code, c.value("name", ""), c});
  }
  auto each = [&](const std::string& name, const std::string& type, const std::string& help, auto value_of) {
    t.family(name, type, help);
    for (const auto& c : children)
      if (auto v = value_of(c.j)) t.sample(name, {{"instance_code", c.code}, {"component", c.name}}, *v);
  };
  using Opt = std::optional<double>;
  each("dive_v3_supervised_up", "gauge", "1 when the supervised process runs and passes its readiness probe",
       [](const Json& c) -> Opt {
         return c.value("state", "") == "running" && c.value("healthy", false) ? 1 : 0;
       });
  each("dive_v3_supervised_wanted", "gauge", "0 when an operator keeps the process stopped",
       [](const Json& c) -> Opt { return c.value("wanted", true) ? 1 : 0; });
  each("dive_v3_supervised_restarts_total", "counter", "Restarts of the process by its supervisor",
       [](const Json& c) -> Opt { return c.value("restarts", 0); });
  each("dive_v3_supervised_last_exit_timestamp_seconds", "gauge",
       "When the process last ended (Unix seconds)", [](const Json& c) -> Opt {
         if (!c.contains("lastExitAt") || !c["lastExitAt"].is_number()) return std::nullopt;
         return c["lastExitAt"].get<double>() / 1000.0;
       });
  t.family("dive_v3_supervised_last_exit_info", "gauge",
           "How the process last ended: 1, labelled with the reason");
  for (const auto& c : children)
    if (c.j.contains("lastExit") && c.j["lastExit"].is_string())
      t.sample(
          "dive_v3_supervised_last_exit_info",
          {{"instance_code", c.code}, {"component", c.name}, {"reason", c.j["lastExit"].get<std::string>()}},
          1);
  return std::move(t).str();
}

std::string orchestration_metrics(const std::optional<Json>& snapshot) {
  Text t;
  t.family("dive_v3_orchestration_db_up", "gauge", "1 when the orchestration database answered the monitor");
  t.sample("dive_v3_orchestration_db_up", {}, snapshot ? 1 : 0);
  if (!snapshot) return std::move(t).str();
  const Json deployments = snapshot->value("deployments", Json::array());
  t.family("dive_v3_deployment_state", "gauge", "The current deploy pipeline state of the instance: 1");
  for (const auto& d : deployments)
    t.sample("dive_v3_deployment_state",
             {{"instance_code", d.value("instance_code", "")}, {"state", d.value("state", "UNKNOWN")}}, 1);
  auto per_deploy = [&](const std::string& name, const std::string& help, auto value_of) {
    t.family(name, "gauge", help);
    for (const auto& d : deployments)
      if (auto v = value_of(d)) t.sample(name, {{"instance_code", d.value("instance_code", "")}}, *v);
  };
  using Opt = std::optional<double>;
  per_deploy("dive_v3_deployment_last_success",
             "1 when the last finished deploy was COMPLETE, 0 when it FAILED", [](const Json& d) -> Opt {
               const std::string r = d.value("last_result", "");
               if (r == "COMPLETE") return 1;
               if (r == "FAILED") return 0;
               return std::nullopt;
             });
  per_deploy("dive_v3_deployment_last_duration_seconds", "How long the last finished deploy took",
             [](const Json& d) -> Opt {
               if (!d.contains("last_duration_seconds") || !d["last_duration_seconds"].is_number())
                 return std::nullopt;
               return d["last_duration_seconds"].get<double>();
             });
  per_deploy("dive_v3_deployment_last_timestamp_seconds", "When the last deploy finished (Unix seconds)",
             [](const Json& d) -> Opt {
               if (!d.contains("last_finished_seconds") || !d["last_finished_seconds"].is_number())
                 return std::nullopt;
               return d["last_finished_seconds"].get<double>();
             });
  const Json breakers = snapshot->value("breakers", Json::array());
  t.family("dive_v3_orchestration_breaker_state", "gauge",
           "The CLI's persisted circuit breaker of an operation: 0 closed, 1 half-open, 2 open");
  for (const auto& b : breakers)
    t.sample("dive_v3_orchestration_breaker_state",
             {{"operation", b.value("operation", "")}, {"instance_code", b.value("instance_code", "")}},
             breaker_value(b.value("state", "CLOSED")));
  t.family("dive_v3_orchestration_breaker_failures", "gauge", "Consecutive failures counted by that breaker");
  for (const auto& b : breakers)
    t.sample("dive_v3_orchestration_breaker_failures",
             {{"operation", b.value("operation", "")}, {"instance_code", b.value("instance_code", "")}},
             b.value("failures", 0));
  t.family("dive_v3_orchestration_errors_unresolved", "gauge",
           "Deploy errors of the instance not yet resolved");
  for (const auto& e : snapshot->value("errors", Json::array()))
    t.sample("dive_v3_orchestration_errors_unresolved", {{"instance_code", e.value("instance_code", "")}},
             e.value("unresolved", 0));
  return std::move(t).str();
}

}  // namespace dive::monitoring
