#include "monitoring/config.hpp"

#include <set>
#include <stdexcept>

#include "common/strings.hpp"

namespace dive::monitoring {

namespace {
std::string local(int port) {
  return "localhost:" + std::to_string(port);
}

const Json& tls() {
  static const Json t = {{"ca_file", "certs/ca.pem"}};
  return t;
}

Json file_job(const std::string& job) {
  return Json{{"job_name", job},
              {"scheme", "https"},
              {"tls_config", tls()},
              {"file_sd_configs", Json::array({Json{{"files", Json::array({"targets/*." + job + ".json"})},
                                                    {"refresh_interval", "30s"}}})}};
}

// The PostgreSQL exporter sleeps a second before it reports pg_up 0 (it retries the connection once):
// under the test profile's 1 s scrapes it would time out and hide that the database is down.
Json postgres_job(bool test) {
  Json j = file_job("postgres");
  if (test) {
    j["scrape_interval"] = "2s";
    j["scrape_timeout"] = "2s";
  }
  return j;
}

Json static_job(const std::string& job, int port, bool honor_labels) {
  Json j = {{"job_name", job},
            {"scheme", "https"},
            {"tls_config", tls()},
            {"static_configs",
             Json::array({Json{{"targets", Json::array({local(port)})}, {"labels", {{"component", job}}}}})}};
  if (honor_labels) j["honor_labels"] = true;
  return j;
}
}  // namespace

Json prometheus_config(const StackSettings& s) {
  const Json& op = s.operator_settings;
  const std::string interval = op.value("scrape_interval", s.test_profile ? "1s" : "15s");
  const std::string eval = op.value("evaluation_interval", s.test_profile ? "1s" : "15s");
  const std::string timeout = op.value("scrape_timeout", s.test_profile ? "1s" : "10s");
  Json cfg = {
      {"global", {{"scrape_interval", interval}, {"scrape_timeout", timeout}, {"evaluation_interval", eval}}},
      {"rule_files", Json::array({"rules/*.yml"})},
      {"alerting",
       {{"alertmanagers",
         Json::array(
             {Json{{"scheme", "https"},
                   {"tls_config", tls()},
                   {"static_configs",
                    Json::array({Json{{"targets", Json::array({local(s.alertmanager_port)})}}})}}})}}},
      {"scrape_configs", Json::array({file_job("dive"), postgres_job(s.test_profile), file_job("redis"),
                                      static_job("monitor", s.monitor_port, true),
                                      static_job("prometheus", s.prometheus_port, false),
                                      static_job("alertmanager", s.alertmanager_port, false)})}};
  return cfg;
}

namespace {
const char* kWebhookPath = "/alerts/webhook";

void point_webhooks(Json& receivers, int port) {
  for (auto& r : receivers) {
    if (!r.contains("webhook_configs")) continue;
    for (auto& w : r["webhook_configs"]) {
      const std::string url = w.value("url", "");
      auto at = url.find(kWebhookPath);
      if (url.rfind("https://localhost:", 0) == 0 && at != std::string::npos)
        w["url"] = "https://" + local(port) + url.substr(at);
    }
  }
}

// Test profile: a new group waits 5 s before its first notification (long enough for a root cause that
// fires a moment after its consequence to inhibit it), then changes go out after 1 s.
void shorten(Json& route) {
  route["group_wait"] = "5s";
  route["group_interval"] = "1s";
  if (route.contains("routes"))
    for (auto& r : route["routes"]) {
      if (r.contains("group_wait")) r["group_wait"] = "5s";
      if (r.contains("group_interval")) r["group_interval"] = "1s";
    }
}
}  // namespace

Json alertmanager_config(Json base, const StackSettings& s) {
  if (!base.is_object() || !base.contains("route") || !base.contains("receivers"))
    throw std::invalid_argument("the Alertmanager configuration needs a route and receivers");
  point_webhooks(base["receivers"], s.monitor_port);
  if (s.test_profile) shorten(base["route"]);

  const Json extra = s.operator_settings.value("receivers", Json::array());
  if (!extra.is_array()) throw std::invalid_argument("settings.json: \"receivers\" must be a list");
  std::set<std::string> names;
  for (const auto& r : base["receivers"]) names.insert(r.value("name", ""));
  Json routes = Json::array();
  for (const auto& r : extra) {
    if (!r.is_object()) throw std::invalid_argument("settings.json: every receiver must be an object");
    const std::string name = r.value("name", "");
    if (name.empty()) throw std::invalid_argument("settings.json: a receiver has no \"name\"");
    if (name.rfind("dive-", 0) == 0)
      throw std::invalid_argument("settings.json: receiver names starting with dive- are DIVE's own (\"" +
                                  name + "\")");
    if (!names.insert(name).second)
      throw std::invalid_argument("settings.json: two receivers are named \"" + name + "\"");
    Json receiver = {{"name", name}};
    bool has_config = false;
    for (auto it = r.begin(); it != r.end(); ++it) {
      const std::string& key = it.key();
      if (key.size() > 8 && key.compare(key.size() - 8, 8, "_configs") == 0) {
        receiver[it.key()] = it.value();
        has_config = true;
      }
    }
    if (!has_config)
      throw std::invalid_argument("settings.json: receiver \"" + name +
                                  "\" has no *_configs (email_configs, webhook_configs, ...)");
    Json route = {{"receiver", name}, {"continue", true}};
    if (r.contains("matchers")) {
      route["matchers"] = r["matchers"];
    } else {
      Json sev = r.value("severities", Json::array({"critical"}));
      std::vector<std::string> list;
      for (const auto& v : sev) {
        const std::string x = v.is_string() ? v.get<std::string>() : "";
        if (x != "critical" && x != "warning" && x != "info")
          throw std::invalid_argument("settings.json: receiver \"" + name +
                                      "\": severities are critical, warning and info");
        list.push_back(x);
      }
      route["matchers"] = Json::array({"severity=~\"" + join(list, "|") + "\""});
    }
    if (r.contains("group_by")) route["group_by"] = r["group_by"];
    base["receivers"].push_back(receiver);
    routes.push_back(route);
  }
  // Operator routes first (they continue), then DIVE's severity routes.
  Json& existing = base["route"]["routes"];
  if (!existing.is_array()) existing = Json::array();
  for (auto& r : existing) routes.push_back(r);
  existing = routes;
  return base;
}

std::vector<std::pair<std::string, Json>> instance_targets(const std::string& code, const Json& ports,
                                                           int blacklist_exporter_port,
                                                           const std::string& host) {
  auto group = [&](int port, const std::string& component) {
    return Json{{"targets", Json::array({host + ":" + std::to_string(port)})},
                {"labels", {{"instance_code", code}, {"component", component}}}};
  };
  const std::string file = to_lower(code);
  Json dive = Json::array();
  for (const char* svc : {"api", "idp", "pdp", "kas", "web"}) dive.push_back(group(ports.value(svc, 0), svc));
  Json redis = Json::array({group(ports.value("redis_exporter", 0), "redis")});
  if (blacklist_exporter_port > 0) redis.push_back(group(blacklist_exporter_port, "redis-blacklist"));
  return {{file + ".dive.json", dive},
          {file + ".postgres.json", Json::array({group(ports.value("postgres_exporter", 0), "postgres")})},
          {file + ".redis.json", redis}};
}

}  // namespace dive::monitoring
