#include "orchestrator/monitoring_stack.hpp"

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <stdexcept>

#include "common/encoding.hpp"
#include "common/fs.hpp"
#include "common/paths.hpp"
#include "common/process.hpp"
#include "common/random.hpp"
#include "common/strings.hpp"
#include "monitoring/config.hpp"
#include "monitoring/rules.hpp"
#include "monitoring/yaml.hpp"
#include "net/https_client.hpp"
#include "orchestrator/certs.hpp"
#include "orchestrator/file_lock.hpp"
#include "orchestrator/instance_control.hpp"

namespace dive::orch {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

MonitoringFiles monitoring_files(const Layout& layout) {
  MonitoringFiles f;
  f.dir = layout.monitoring_dir();
  f.settings = f.dir / "settings.json";
  f.prometheus_yml = f.dir / "prometheus.yml";
  f.alertmanager_yml = f.dir / "alertmanager.yml";
  f.rules = f.dir / "rules";
  f.targets = f.dir / "targets";
  f.web_yml = f.dir / "certs" / "web.yml";
  f.secrets = f.dir / "secrets";
  f.webhook_token = f.secrets / "webhook.token";
  f.prometheus_data = f.dir / "prometheus";
  f.alertmanager_data = f.dir / "alertmanager";
  f.notifications = f.dir / "notifications.jsonl";
  f.monitor_json = f.dir / "monitor.json";
  f.grafana = f.dir / "grafana";
  return f;
}

std::vector<std::string> monitoring_child_names(bool grafana) {
  std::vector<std::string> names{"monitor", "alertmanager", "prometheus"};
  if (grafana) names.push_back("grafana");
  return names;
}

// ------------------------------------------------------------------------------------------ targets

void write_instance_targets(const Layout& layout, const std::string& code) {
  const Json cfg = read_instance_config(layout.instance(code));
  const auto files = monitoring_files(layout);
  ensure_dir(files.targets, 0755);
  const bool exporters = cfg.value("exporters", Json::object()).value("enabled", true);
  // The hub and a standalone spoke run a revocation Redis (and its exporter) of their own.
  const int blacklist = is_anchor(cfg) ? cfg["blacklist_redis"].value("exporter_port", 0) : 0;
  for (const auto& [name, content] :
       monitoring::instance_targets(code, cfg["ports"], blacklist, Placement::from_config(cfg).host)) {
    if (!exporters && !ends_with(name, ".dive.json")) continue;
    write_file_atomic(files.targets / name, content.dump(2) + "\n", 0644);
  }
}

void remove_instance_targets(const Layout& layout, const std::string& code) {
  const auto files = monitoring_files(layout);
  std::error_code ec;
  for (const char* job : {"dive", "postgres", "redis"})
    fs::remove(files.targets / (to_lower(code) + "." + job + ".json"), ec);
}

bool instance_monitored(const Layout& layout, const std::string& code) {
  return fs::exists(monitoring_files(layout).targets / (to_lower(code) + ".dive.json"));
}

// ------------------------------------------------------------------------------------------ prepare

namespace {

Json load_settings(const MonitoringFiles& f) {
  auto text = try_read_file(f.settings);
  if (!text) return Json::object();
  try {
    Json s = Json::parse(*text);
    if (!s.is_object()) throw std::runtime_error("not a JSON object");
    return s;
  } catch (const std::exception& e) {
    throw std::runtime_error(f.settings.string() + " is not valid: " + e.what() +
                             " (fix it, or move it aside " + "to start from the defaults)");
  }
}

Profile resolve_monitoring_profile(const Layout& layout, const MonitoringOptions& opts,
                                   const Json& settings) {
  if (opts.profile) return *opts.profile;
  if (auto p = parse_profile(settings.value("profile", ""))) return *p;
  try {
    if (auto p =
            parse_profile(read_instance_config(layout.instance(std::string(kHubCode))).value("profile", "")))
      return *p;
  } catch (const std::exception&) {
  }
  return Profile::Dev;
}

// Writes `text` to `path` only after `check` accepted it as `path`.new (same directory, so relative paths
// resolve alike); `check` returns the tool's complaint, or "" when it is content.
bool replace_checked(const fs::path& path, const std::string& text, unsigned mode,
                     const std::function<std::string(const fs::path&)>& check) {
  const fs::path next = path.string() + ".new";
  write_file_atomic(next, text, mode);
  if (const std::string problem = check(next); !problem.empty()) {
    std::error_code ec;
    fs::remove(next, ec);
    throw std::runtime_error(problem);
  }
  const bool changed = try_read_file(path).value_or("") != text;
  fs::rename(next, path);
  return changed;
}

std::string tool_check(const std::vector<std::string>& argv, const std::string& what) {
  if (!find_executable(argv.front())) return "";  // checked by ./dive test; bootstrap installs the tools
  auto r = run_capture(argv, 60s);
  if (r.exit_code == 0) return "";
  return what + " refused by " + argv.front() + ":\n" + trim(r.output);
}

std::string generated_header(const std::string& source, const std::string& profile) {
  return "# Generated by ./dive monitoring up (profile " + profile + ") from " + source +
         ". Do not edit: edit the source (or $DIVE_HOME/monitoring/settings.json) and run ./dive monitoring "
         "up.\n";
}

// Returns what was written (for the configuration's fingerprint).
std::string write_rules(const MonitoringFiles& f, bool test) {
  const fs::path src = monitoring_assets_dir() / "rules";
  if (!fs::is_directory(src))
    throw std::runtime_error("no alert rules at " + src.string() +
                             " (is this a DIVE checkout? set DIVE_ROOT)");
  ensure_dir(f.rules, 0755);
  std::map<std::string, std::string> written;  // sorted: a stable fingerprint
  for (const auto& entry : fs::directory_iterator(src)) {
    if (entry.path().extension() != ".yml") continue;
    Json rules = monitoring::parse_yaml(read_file(entry.path()));
    if (test) rules = monitoring::test_profile_rules(rules);
    const std::string name = entry.path().filename().string();
    const std::string text =
        generated_header("monitoring/rules/" + name, test ? "test" : "dev") + monitoring::to_yaml(rules);
    if (try_read_file(f.rules / name).value_or("") != text) write_file_atomic(f.rules / name, text, 0644);
    written[name] = text;
  }
  for (const auto& entry : fs::directory_iterator(f.rules))
    if (!written.count(entry.path().filename().string())) fs::remove(entry.path());
  std::string all;
  for (const auto& [name, text] : written) all += name + "\n" + text;
  return all;
}

// Grafana's provisioning from the repository's templates, with this home's paths and Prometheus port.
void write_grafana_provisioning(const Layout& layout, const MonitoringFiles& f, int prometheus_port) {
  const fs::path src = monitoring_assets_dir() / "grafana" / "provisioning";
  for (const char* kind : {"datasources", "dashboards"}) {
    const fs::path from = src / kind / "dive.yml";
    if (!fs::exists(from)) continue;
    std::string text = read_file(from);
    text = replace_all(text, "${DIVE_HOME}", layout.home.string());
    text = replace_all(text, "${DIVE_ROOT}", checkout_root().string());
    text =
        replace_all(text, "https://localhost:9090", "https://localhost:" + std::to_string(prometheus_port));
    ensure_dir(f.grafana / "provisioning" / kind, 0755);
    write_file_atomic(f.grafana / "provisioning" / kind / "dive.yml", text, 0644);
  }
  for (const char* d :
       {"data", "logs", "plugins", "provisioning/plugins", "provisioning/alerting", "provisioning/notifiers"})
    ensure_dir(f.grafana / d, 0755);
}

// The settings with their defaults for `profile` (retention, receivers), checked.
void complete_settings(Json& settings, Profile profile, const MonitoringFiles& f) {
  const bool test = profile == Profile::Test;
  if (!settings.contains("retention")) settings["retention"] = test ? "1d" : "15d";
  if (!settings.contains("receivers")) settings["receivers"] = Json::array();
  settings["profile"] = to_string(profile);
  if (!settings["retention"].is_string() ||
      !monitoring::parse_duration(settings["retention"].get<std::string>()))
    throw std::runtime_error(f.settings.string() + ": retention must be a duration such as 15d (is \"" +
                             settings["retention"].dump() + "\")");
}

// TLS: a certificate of the home's CA for localhost, for Prometheus, Alertmanager and the monitor.
void write_tls(const Layout& layout, const InstancePaths& mon, const MonitoringFiles& f) {
  generate_cert_at(layout, mon, {"localhost", "127.0.0.1", "::1"}, false);
  write_file_atomic(f.web_yml,
                    "# TLS of Prometheus and Alertmanager (written by ./dive monitoring up).\n"
                    "tls_server_config:\n  cert_file: " +
                        mon.cert_file.string() + "\n  key_file: " + mon.key_file.string() + "\n",
                    0644);
}

// prometheus.yml and alertmanager.yml, each written only once its tool accepted it.
void write_stack_configs(const MonitoringFiles& f, const monitoring::StackSettings& s, Profile profile) {
  replace_checked(
      f.prometheus_yml,
      generated_header("src/monitoring/config.cpp", to_string(profile)) +
          monitoring::to_yaml(monitoring::prometheus_config(s)),
      0644, [](const fs::path& p) {
        return tool_check({"promtool", "check", "config", p.string()}, "the Prometheus configuration");
      });
  Json am;
  try {
    am = monitoring::alertmanager_config(
        monitoring::parse_yaml(read_file(monitoring_assets_dir() / "alertmanager.yml")), s);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string(e.what()) + " (" + f.settings.string() + ")");
  }
  replace_checked(
      f.alertmanager_yml,
      generated_header("monitoring/alertmanager.yml", to_string(profile)) + monitoring::to_yaml(am),
      0600,  // an operator's receivers may carry credentials
      [&](const fs::path& p) {
        std::string problem =
            tool_check({"amtool", "check-config", p.string()}, "the Alertmanager configuration");
        return problem.empty() ? problem : problem + "\n(check the receivers in " + f.settings.string() + ")";
      });
}

// monitor.json: the stack's configuration as its supervisor and the monitor service read it.
Json monitor_config(const Layout& layout, const MonitoringOptions& opts, Profile profile,
                    const Json& settings, bool grafana, const std::string& rules_text) {
  const auto f = monitoring_files(layout);
  const auto mon = layout.monitoring();
  const auto ports = monitoring_ports(opts.port_shift);
  const bool test = profile == Profile::Test;
  return Json{
      {"code", ""},
      {"name", "monitoring"},
      {"profile", to_string(profile)},
      {"home", layout.home.string()},
      {"port_shift", opts.port_shift},
      {"ports",
       {{"monitor", ports.monitor},
        {"prometheus", ports.prometheus},
        {"alertmanager", ports.alertmanager},
        {"grafana", ports.grafana}}},
      {"tls",
       {{"cert_file", mon.cert_file.string()},
        {"key_file", mon.key_file.string()},
        {"ca_file", mon.ca_file.string()}}},
      {"log", settings.value("log", Json{{"level", "info"}, {"json", false}})},
      {"http",
       {{"io_threads", 1}, {"worker_threads", 4}, {"max_body_bytes", 4 << 20}, {"read_timeout_ms", 10000}}},
      {"health", {{"probe_timeout_ms", 2000}, {"slow_ms", 1000}, {"refresh_ms", test ? 1000 : 5000}}},
      {"supervisor",
       {{"restart_initial_ms", test ? 200 : 1000},
        {"restart_max_ms", test ? 5000 : 30000},
        {"restart_jitter_ms", test ? 50 : 250},
        {"stable_after_ms", test ? 3000 : 30000},
        {"ready_timeout_ms", 60000},
        {"health_interval_ms", test ? 500 : 2000},
        {"liveness_failures", 6}}},
      {"monitor",
       {{"notifications", f.notifications.string()},
        {"webhook_token_file", f.webhook_token.string()},
        {"targets_dir", f.targets.string()},
        {"refresh_ms", test ? 1000 : 5000}}},
      {"prometheus", {{"retention", settings.at("retention")}, {"config", f.prometheus_yml.string()}}},
      {"alertmanager", {{"config", f.alertmanager_yml.string()}}},
      {"grafana", {{"enabled", grafana}}},
      // Fingerprints of what Prometheus and Alertmanager read: `monitoring up` reloads them only when these
      // change (a reload makes Prometheus rediscover Alertmanager, and alerts that fire meanwhile wait for
      // the next resend).
      {"fingerprints",
       {{"prometheus", sha256_hex(read_file(f.prometheus_yml) + rules_text)},
        {"alertmanager", sha256_hex(read_file(f.alertmanager_yml))}}}};
}

}  // namespace

Json prepare_monitoring(const Layout& layout, const MonitoringOptions& opts) {
  const auto f = monitoring_files(layout);
  const auto mon = layout.monitoring();
  for (const auto& d :
       {f.dir, f.rules, f.targets, mon.certs, mon.logs, f.prometheus_data, f.alertmanager_data})
    ensure_dir(d, 0755);
  ensure_dir(f.secrets, 0700);
  ensure_dir(mon.run, 0700);

  Json settings = load_settings(f);
  const Profile profile = resolve_monitoring_profile(layout, opts, settings);
  complete_settings(settings, profile, f);
  const bool test = profile == Profile::Test;
  const auto ports = monitoring_ports(opts.port_shift);

  write_tls(layout, mon, f);
  if (!fs::exists(f.webhook_token)) write_file_atomic(f.webhook_token, secure_token(32), 0600);

  const std::string rules_text = write_rules(f, test);
  monitoring::StackSettings s;
  s.prometheus_port = ports.prometheus;
  s.alertmanager_port = ports.alertmanager;
  s.monitor_port = ports.monitor;
  s.test_profile = test;
  s.operator_settings = settings;
  write_stack_configs(f, s, profile);
  write_file_atomic(f.settings, settings.dump(2) + "\n", 0600);

  const bool grafana = settings.value("grafana", Json::object()).value("enabled", true) &&
                       find_executable("grafana-server").has_value();
  if (grafana) write_grafana_provisioning(layout, f, ports.prometheus);

  // Instances that run (or were monitored before) are scraped; ones stopped on purpose are not.
  for (const auto& code : layout.deployed_codes())
    if (instance_monitored(layout, code) || supervisor_running(layout.instance(code)))
      write_instance_targets(layout, code);

  const Json cfg = monitor_config(layout, opts, profile, settings, grafana, rules_text);
  write_file_atomic(f.monitor_json, cfg.dump(2) + "\n", 0644);
  return cfg;
}

Json read_monitor_config(const Layout& layout) {
  const auto f = monitoring_files(layout);
  auto text = try_read_file(f.monitor_json);
  if (!text)
    throw std::runtime_error("monitoring is not set up under " + f.dir.string() +
                             "; run ./dive monitoring up");
  return Json::parse(*text);
}

// ------------------------------------------------------------------------------------------ children

namespace {

ChildSpec https_child(const InstancePaths& mon, const std::string& name, int port, const std::string& ready,
                      const std::string& live) {
  ChildSpec c;
  c.name = name;
  c.port = port;
  c.probe = ProbeKind::Https;
  c.ready_path = ready;
  c.live_path = live;
  c.log_path = mon.log(name).string();
  return c;
}

ChildSpec alertmanager_child(const MonitoringFiles& f, const InstancePaths& mon, int port) {
  ChildSpec am = https_child(mon, "alertmanager", port, "/-/ready", "/-/healthy");
  am.argv = {"prometheus-alertmanager",
             "--config.file=" + f.alertmanager_yml.string(),
             "--storage.path=" + f.alertmanager_data.string(),
             "--web.listen-address=127.0.0.1:" + std::to_string(port),
             "--web.config.file=" + f.web_yml.string(),
             "--web.external-url=https://localhost:" + std::to_string(port) + "/",
             "--cluster.listen-address=",
             "--log.level=warn"};
  return am;
}

ChildSpec prometheus_child(const MonitoringFiles& f, const InstancePaths& mon, int port,
                           const std::string& retention) {
  ChildSpec prom = https_child(mon, "prometheus", port, "/-/ready", "/-/healthy");
  prom.argv = {"prometheus",
               "--config.file=" + f.prometheus_yml.string(),
               "--storage.tsdb.path=" + f.prometheus_data.string(),
               "--storage.tsdb.retention.time=" + retention,
               "--web.listen-address=127.0.0.1:" + std::to_string(port),
               "--web.config.file=" + f.web_yml.string(),
               "--web.external-url=https://localhost:" + std::to_string(port) + "/",
               "--web.enable-lifecycle",
               "--log.level=warn"};
  return prom;
}

ChildSpec grafana_child(const MonitoringFiles& f, const InstancePaths& mon, int port) {
  ChildSpec g = https_child(mon, "grafana", port, "/api/health", "/api/health");
  g.argv = {"grafana-server", "--homepath=/usr/share/grafana"};
  g.env = {{"GF_SERVER_PROTOCOL", "https"},
           {"GF_SERVER_HTTP_ADDR", "127.0.0.1"},
           {"GF_SERVER_HTTP_PORT", std::to_string(port)},
           {"GF_SERVER_CERT_FILE", mon.cert_file.string()},
           {"GF_SERVER_CERT_KEY", mon.key_file.string()},
           {"GF_PATHS_DATA", (f.grafana / "data").string()},
           {"GF_PATHS_LOGS", (f.grafana / "logs").string()},
           {"GF_PATHS_PLUGINS", (f.grafana / "plugins").string()},
           {"GF_PATHS_PROVISIONING", (f.grafana / "provisioning").string()},
           {"GF_ANALYTICS_REPORTING_ENABLED", "false"},
           {"GF_ANALYTICS_CHECK_FOR_UPDATES", "false"}};
  return g;
}

}  // namespace

std::vector<ChildSpec> monitoring_children(const Layout& layout, const Json& cfg, const fs::path& dive_exe) {
  const auto f = monitoring_files(layout);
  const auto mon = layout.monitoring();
  const Json& ports = cfg["ports"];
  std::vector<ChildSpec> out;
  ChildSpec monitor = https_child(mon, "monitor", ports["monitor"], "/health/ready", "/health/live");
  monitor.argv = {dive_exe.string(), "serve", "monitor"};
  monitor.env["DIVE_HOME"] = layout.home.string();
  out.push_back(monitor);
  out.push_back(alertmanager_child(f, mon, ports["alertmanager"]));
  out.push_back(prometheus_child(f, mon, ports["prometheus"], cfg["prometheus"].value("retention", "15d")));
  if (cfg["grafana"].value("enabled", false)) out.push_back(grafana_child(f, mon, ports["grafana"]));
  return out;
}

// ------------------------------------------------------------------------------------------ control

namespace {
std::unique_ptr<net::HttpsClient> client_for(const Layout& layout) {
  net::ClientConfig c;
  c.ca_file = layout.ca_cert().string();
  c.connect_timeout = 2000ms;
  c.max_idle_per_host = 1;
  return std::make_unique<net::HttpsClient>(c);
}

net::ClientResponse call(net::HttpsClient& http, const std::string& method, int port,
                         const std::string& path) {
  net::ClientRequest r;
  r.method = method;
  r.url = "https://localhost:" + std::to_string(port) + path;
  r.timeout = 5000ms;
  return http.send(r);
}

bool tools_installed(const Console& out) {
  for (const char* tool : {"prometheus", "prometheus-alertmanager", "promtool", "amtool"})
    if (!find_executable(tool)) {
      out.fail(std::string(tool) + " is not installed; run scripts/bootstrap (Debian packages prometheus, " +
               "prometheus-alertmanager)");
      return false;
    }
  return true;
}

// The supervisor holds its children's command lines: when those change (profile, retention, ports, Grafana
// installed, a new dive), the stack restarts; otherwise it only reloads.
void stop_if_command_lines_changed(const Layout& layout, const Json& cfg, const fs::path& dive_exe,
                                   const Console& out) {
  const auto mon = layout.monitoring();
  std::map<std::string, Json> running;
  const Json st = supervised_status(mon, {});
  for (const auto& c : st["services"]) running[c.value("name", "")] = c.value("argv", Json());
  std::map<std::string, Json> wanted;
  for (const auto& c : monitoring_children(layout, cfg, dive_exe)) wanted[c.name] = c.argv;
  if (running != wanted) {
    out.info("the monitoring processes' command lines changed: restarting the stack");
    stop_instance(mon, 60s);
  }
}

// A running stack brought up to date: Prometheus and Alertmanager re-read their files when these changed
// (since `monitor_before`, the monitor.json they run with); the monitor restarts for a new configuration of
// its own; a stopped child comes back.
void refresh_running_stack(const Layout& layout, const Json& cfg, const std::string& monitor_before,
                           const Console& out) {
  const auto mon = layout.monitoring();
  Json before = Json::object();
  try {
    before = Json::parse(monitor_before);
  } catch (const std::exception&) {
  }
  auto http = client_for(layout);
  for (const char* svc : {"prometheus", "alertmanager"}) {
    if (before.value("fingerprints", Json::object()).value(svc, "") == cfg["fingerprints"].value(svc, "?"))
      continue;
    try {
      auto r = call(*http, "POST", cfg["ports"][svc], "/-/reload");
      if (r.status != 200)
        out.warn(std::string(svc) + " refused to reload: HTTP " + std::to_string(r.status));
    } catch (const std::exception& e) {
      out.warn(std::string(svc) + " did not reload (" + e.what() +
               "); its supervisor restarts it if it is down");
    }
  }
  Json mine = cfg, theirs = before;
  mine.erase("fingerprints");
  theirs.erase("fingerprints");
  if (mine != theirs) service_command(mon, "restart", "monitor");
  for (const auto& name : monitoring_child_names(cfg["grafana"].value("enabled", false)))
    service_command(mon, "start", name);  // a stopped one comes back
  out.info("already running: configuration up to date");
}

// Waits (90 s at most) for every child to be healthy, announcing each as it becomes ready.
bool wait_for_stack(const InstancePaths& mon, std::chrono::steady_clock::time_point t0, const Console& out) {
  std::set<std::string> announced;
  return wait_until_healthy(mon, 90s, [&](const Json& st) {
    for (const auto& s : st["services"]) {
      const std::string name = s.value("name", "");
      if (s["state"] == "running" && s.value("healthy", false) && announced.insert(name).second) {
        auto ms = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - t0).count();
        out.info(name + " ready (" + format_duration_ms(ms) + ")");
      }
    }
  });
}

// Where the stack answers, and where the dashboards are when Grafana is not installed.
void announce_stack(const Json& cfg, const Console& out) {
  const bool grafana = cfg["grafana"].value("enabled", false);
  const Json& p = cfg["ports"];
  out.ok("monitoring up: Prometheus https://localhost:" + std::to_string(p["prometheus"].get<int>()) +
         ", Alertmanager https://localhost:" + std::to_string(p["alertmanager"].get<int>()) +
         (grafana ? ", Grafana https://localhost:" + std::to_string(p["grafana"].get<int>()) : ""));
  if (!grafana)
    out.info("dashboards: " + (monitoring_assets_dir() / "dashboards").string() +
             " (Grafana format; grafana-server is not installed, see monitoring/grafana/README.md)");
}

}  // namespace

int monitoring_up(const Layout& layout, const MonitoringOptions& opts, const Console& out) {
  const auto mon = layout.monitoring();
  const auto f = monitoring_files(layout);
  ensure_dir(mon.run, 0700);
  int holder = -1;
  auto lock = FileLock::try_acquire(mon.deploy_lock, &holder);
  if (!lock) {
    out.fail("another ./dive monitoring up is running (pid " + std::to_string(holder) + ")");
    return 1;
  }
  if (!tools_installed(out)) return 1;
  auto t0 = std::chrono::steady_clock::now();
  const std::string monitor_before = try_read_file(f.monitor_json).value_or("");
  Json cfg;
  try {
    cfg = prepare_monitoring(layout, opts);
  } catch (const std::exception& e) {
    out.fail(std::string("monitoring configuration refused (the running stack keeps its own): ") + e.what());
    return 1;
  }
  out.ok("configuration written to " + f.dir.string() + " (profile " + cfg.value("profile", "dev") + ")");
  if (supervisor_running(mon)) stop_if_command_lines_changed(layout, cfg, opts.dive_exe, out);
  if (!supervisor_running(mon)) {
    start_supervisor(mon, opts.dive_exe);
    out.info("supervisor started (log " + mon.log("supervisor").string() + ")");
  } else {
    refresh_running_stack(layout, cfg, monitor_before, out);
  }
  if (!wait_for_stack(mon, t0, out)) {
    out.fail("monitoring is not healthy after 90 s; see ./dive monitoring status and ./dive monitoring logs");
    return 1;
  }
  announce_stack(cfg, out);
  return 0;
}

int monitoring_down(const Layout& layout) {
  return stop_instance(layout.monitoring(), 60s);
}

Json alertmanager_alerts(const Layout& layout) {
  const Json cfg = read_monitor_config(layout);
  auto http = client_for(layout);
  net::ClientResponse r;
  try {
    r = call(*http, "GET", cfg["ports"]["alertmanager"], "/api/v2/alerts");
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("Alertmanager does not answer: ") + e.what() +
                             " (is monitoring up? ./dive monitoring status)");
  }
  if (r.status != 200) throw std::runtime_error("Alertmanager answered HTTP " + std::to_string(r.status));
  Json out = Json::array();
  for (const auto& a : r.json()) {
    const Json st = a.value("status", Json::object());
    out.push_back(Json{{"labels", a.value("labels", Json::object())},
                       {"annotations", a.value("annotations", Json::object())},
                       {"state", st.value("state", "unknown")},
                       {"inhibitedBy", st.value("inhibitedBy", Json::array())},
                       {"silencedBy", st.value("silencedBy", Json::array())},
                       {"startsAt", a.value("startsAt", "")},
                       {"endsAt", a.value("endsAt", "")},
                       {"fingerprint", a.value("fingerprint", "")}});
  }
  return out;
}

Json monitoring_status(const Layout& layout) {
  const auto mon = layout.monitoring();
  Json cfg;
  try {
    cfg = read_monitor_config(layout);
  } catch (const std::exception&) {
    return Json{{"running", false}, {"configured", false}, {"services", Json::array()}};
  }
  const bool grafana = cfg["grafana"].value("enabled", false);
  Json st = supervised_status(mon, monitoring_child_names(grafana));
  st["configured"] = true;
  st["profile"] = cfg.value("profile", "dev");
  st["ports"] = cfg["ports"];
  st["dir"] = monitoring_files(layout).dir.string();
  if (!st.value("running", false)) return st;
  auto http = client_for(layout);
  try {
    auto r = call(*http, "GET", cfg["ports"]["prometheus"], "/api/v1/targets?state=active");
    Json jobs = Json::object();
    Json down = Json::array();
    const Json body = r.json();  // named: a range-for over a temporary's member would dangle
    for (const auto& t : body["data"]["activeTargets"]) {
      const Json labels = t.value("labels", Json::object());
      const std::string job = labels.value("job", "?");
      const bool up = t.value("health", "") == "up";
      Json& counts = jobs[job];
      if (!counts.is_object()) counts = Json{{"up", 0}, {"down", 0}};
      counts[up ? "up" : "down"] = counts[up ? "up" : "down"].get<int>() + 1;
      if (!up)
        down.push_back(Json{{"job", job},
                            {"instance", labels.value("instance", "")},
                            {"instance_code", labels.value("instance_code", "")},
                            {"component", labels.value("component", "")},
                            {"health", t.value("health", "")},
                            {"lastError", t.value("lastError", "")}});
    }
    st["targets"] = Json{{"jobs", jobs}, {"down", down}};
  } catch (const std::exception& e) {
    st["targets"] = Json{{"error", e.what()}};
  }
  try {
    Json counts = Json::object();
    for (const auto& a : alertmanager_alerts(layout)) {
      const std::string sev = a["labels"].value("severity", "none");
      const std::string state = a.value("state", "unknown");
      Json& by_state = counts[state];
      if (!by_state.is_object()) by_state = Json::object();
      by_state[sev] = by_state.value(sev, 0) + 1;
    }
    st["alerts"] = counts;
  } catch (const std::exception& e) {
    st["alerts"] = Json{{"error", e.what()}};
  }
  return st;
}

}  // namespace dive::orch
