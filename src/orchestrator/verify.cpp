#include "orchestrator/verify.hpp"

#include <functional>

#include "common/strings.hpp"
#include "net/https_client.hpp"
#include "orchestrator/certs.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/federation_ops.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/instance_control.hpp"
#include "orchestrator/policy_publish.hpp"
#include "orchestrator/probes.hpp"
#include "store/local_postgres.hpp"

namespace dive::orch {

using namespace std::chrono_literals;

bool VerifyReport::ok() const {
  for (const auto& c : checks)
    if (!c.ok) return false;
  return !checks.empty();
}

int VerifyReport::passed() const {
  int n = 0;
  for (const auto& c : checks) n += c.ok ? 1 : 0;
  return n;
}

Json VerifyReport::to_json() const {
  Json arr = Json::array();
  for (const auto& c : checks)
    arr.push_back(Json{{"name", c.name}, {"ok", c.ok}, {"warning", c.warning}, {"detail", c.detail}});
  return Json{{"code", code}, {"ok", ok()}, {"passed", passed()}, {"total", checks.size()}, {"checks", arr}};
}

namespace {

using AddCheck = std::function<void(std::string, bool, std::string, bool)>;

void verify_federation(const Layout& layout, const std::string& code, const AddCheck& add) {
  Json st = federation_status_file(layout, code);
  const bool hub = is_hub(code);
  if (!hub && !st.value("federated", false) && !st.contains("hubUrl")) {
    add("federation", true, "the api has not reported its federation state yet", true);
    return;
  }
  const int64_t rev = st.value("bundleRevision", int64_t{0});
  Json errors = st.value("errors", Json::object());
  std::string err_text;
  for (auto it = errors.begin(); it != errors.end(); ++it)
    err_text += (err_text.empty() ? "" : "; ") + it.key() + ": " + it.value().get<std::string>();
  if (!hub) {
    const std::string reg =
        st.value("registryStatus", Json("")).is_string() ? st.value("registryStatus", "") : "";
    if (reg == "unauthenticated") {
      add("federation registration", false,
          "the hub refuses this spoke's credential (rotated or revoked: ./dive spoke credential " + code +
              ")",
          false);
    } else if (reg == "approved") {
      add("federation registration", true, "approved at " + st.value("hubUrl", ""), false);
    } else {
      add("federation registration", true,
          (reg.empty() ? std::string("not confirmed yet") : reg) + " at " + st.value("hubUrl", ""), true);
    }
  }
  if (rev > 0)
    add("trust bundle", true,
        "revision " + std::to_string(rev) + " applied, " +
            std::to_string(st.value("members", Json::array()).size()) + " members" +
            (err_text.empty() ? "" : " (" + err_text + ")"),
        !err_text.empty());
  else
    add("trust bundle", true, "none applied yet" + (err_text.empty() ? "" : " (" + err_text + ")"), true);
  if (hub) {
    try {
      auto interval = heartbeat_interval(layout);
      auto now = std::chrono::system_clock::now();
      int approved = 0;
      std::vector<std::string> stale;
      for (const auto& s : list_spokes(layout)) {
        if (s.status == federation::SpokeStatus::Approved) ++approved;
        if (s.stale(now, interval)) stale.push_back(s.reg.code);
      }
      add("federation spokes", true,
          std::to_string(approved) + " approved" +
              (stale.empty() ? "" : ", stale (no heartbeat): " + join(stale, ", ")),
          !stale.empty());
    } catch (const std::exception& e) {
      add("federation spokes", false, e.what(), false);
    }
  }
}

// 1. Processes, as the supervisor sees them.
void verify_processes(const InstancePaths& paths, bool hub, const AddCheck& add) {
  Json st = instance_status(paths, hub);
  add("supervisor", st.value("running", false), st.value("running", false) ? "answering" : "not running",
      false);
  for (const auto& s : st["services"]) {
    bool ok = s["state"] == "running" && s.value("healthy", false);
    std::string detail =
        s["state"].get<std::string>() + (s.value("healthy", false) ? ", healthy" : ", not healthy");
    if (!s["pid"].is_null()) detail += ", pid " + std::to_string(s["pid"].get<int>());
    if (s.value("restarts", 0) > 0) detail += ", " + std::to_string(s["restarts"].get<int>()) + " restart(s)";
    add("process " + s["name"].get<std::string>(), ok, detail, false);
  }
}

// 2. Every service over verified TLS: /health answers JSON, /metrics carries the breaker and pool gauges;
// the console's start page with its Content-Security-Policy (docs/WEB.md).
void verify_endpoints(const Json& cfg, const InstancePaths& paths, const AddCheck& add) {
  net::ClientConfig cc;
  cc.ca_file = paths.ca_file.string();
  net::HttpsClient http(cc);
  auto get = [&](const std::string& url) {
    net::ClientRequest r;
    r.url = url;
    r.timeout = 3s;
    return http.send(r);
  };
  for (const auto& svc : service_names()) {
    const std::string base = cfg["urls"][svc];
    try {
      auto resp = get(base + "/health");
      Json body = resp.json();
      // The pdp answers OPA's {} (a bundle is loaded); the others their health report.
      bool ok = resp.status == 200 && body.is_object() && (svc == "pdp" || body.contains("status"));
      add(svc + " /health (TLS)", ok,
          "HTTP " + std::to_string(resp.status) +
              (svc == "pdp" ? "" : ", status " + body.value("status", "?")),
          false);
    } catch (const std::exception& e) {
      add(svc + " /health (TLS)", false, e.what(), false);
    }
    try {
      auto resp = get(base + "/metrics");
      std::vector<std::string> missing;
      // The web console has no database (nor breaker) yet: its own HTTP and health metrics.
      const bool web = svc == "web";
      const std::vector<const char*> wanted =
          web ? std::vector<const char*>{"dive_v3_http_requests_total", "dive_v3_health_status"}
              : std::vector<const char*>{"dive_v3_circuit_breaker_state", "dive_v3_db_connections_active",
                                         "dive_v3_db_connections_idle", "dive_v3_db_connections_total"};
      for (const char* m : wanted)
        if (resp.body.find(m) == std::string::npos) missing.push_back(m);
      add(svc + " /metrics", resp.status == 200 && missing.empty(),
          !missing.empty() ? "missing " + missing.front()
          : web            ? "HTTP and health metrics present"
                           : "breaker and pool metrics present",
          false);
    } catch (const std::exception& e) {
      add(svc + " /metrics", false, e.what(), false);
    }
  }
  try {
    auto resp = get(cfg["urls"].value("web", "") + "/");
    const bool csp = resp.headers.has("Content-Security-Policy");
    add("web console (TLS)", resp.status == 200 && csp,
        "HTTP " + std::to_string(resp.status) + (csp ? ", CSP set" : ", no Content-Security-Policy"), false);
  } catch (const std::exception& e) {
    add("web console (TLS)", false, e.what(), false);
  }
}

// 3. The pdp serves the bundle that is active in the database (not the built-in fallback).
void verify_bundle(const Layout& layout, const std::string& code, const AddCheck& add) {
  auto pb = pdp_bundle_status(layout, code);
  auto shown = [](const std::string& rev) { return rev.empty() ? std::string("none") : rev.substr(0, 12); };
  bool ok = !pb.active_revision.empty() && pb.served_revision == pb.active_revision;
  add("pdp bundle", ok,
      ok ? "serving revision " + shown(pb.active_revision)
         : "active " + shown(pb.active_revision) + ", served " + shown(pb.served_revision) +
               (pb.error.empty() ? "" : " (" + pb.error + ")"),
      false);
}

// 4. Data stores with this instance's credentials, and each refusing a client without them.
void verify_stores(const Json& cfg, const Json& secrets, bool hub, const AddCheck& add) {
  const int pg_port = cfg["ports"]["postgres"];
  const std::string pg_user = cfg["database"].value("user", "dive");
  bool pg_ok = store::pg_accepts("127.0.0.1", static_cast<uint16_t>(pg_port), pg_user,
                                 secrets.value("postgres_password", ""), 3s);
  add("postgres", pg_ok,
      "127.0.0.1:" + std::to_string(pg_port) + (pg_ok ? " accepts the instance's credentials" : " refuses"),
      false);
  bool pg_locked =
      !store::pg_accepts("127.0.0.1", static_cast<uint16_t>(pg_port), pg_user, "not-the-password", 3s);
  add("postgres password auth", pg_locked,
      pg_locked ? "a wrong password is refused" : "ACCEPTS A WRONG PASSWORD", false);
  const int redis_port = cfg["redis"]["port"];
  add("redis", redis_ping(redis_port, secrets.value("redis_password", ""), 2s),
      "127.0.0.1:" + std::to_string(redis_port), false);
  bool redis_locked = !redis_ping(redis_port, "", 2s);
  add("redis password auth", redis_locked,
      redis_locked ? "unauthenticated clients are refused" : "OPEN TO ANY CLIENT", false);
  const int bl_port = cfg["blacklist_redis"]["port"];
  add("blacklist redis",
      redis_ping(bl_port, secrets.value("blacklist_redis_password", ""), 2s,
                 secrets.value("blacklist_redis_user", "")),
      "127.0.0.1:" + std::to_string(bl_port) + (hub ? " (hosted here)" : " (on the hub)"), false);
}

// 5. Certificate.
void verify_certificate(const Layout& layout, const std::string& code, const AddCheck& add) {
  auto cert = verify_instance_cert(layout, code);
  if (cert.ok())
    add("certificate", true, std::to_string(cert.days_left) + " days left, chain and SANs ok",
        cert.days_left <= 30);
  else
    add("certificate", false, cert.error.empty() ? "invalid" : cert.error, false);
}

}  // namespace

VerifyReport verify_instance(const Layout& layout, const std::string& code) {
  VerifyReport rep;
  rep.code = code;
  const AddCheck add = [&](std::string name, bool ok, std::string detail, bool warning) {
    rep.checks.push_back({std::move(name), ok, warning, std::move(detail)});
  };
  const auto paths = layout.instance(code);
  Json cfg, secrets;
  try {
    cfg = read_instance_config(paths);
    secrets = read_secrets(paths);
  } catch (const std::exception& e) {
    add("configuration", false, e.what(), false);
    return rep;
  }
  const bool hub = is_anchor(cfg);  // it hosts the revocation store itself
  verify_processes(paths, hub, add);
  verify_endpoints(cfg, paths, add);
  verify_bundle(layout, code, add);
  verify_stores(cfg, secrets, hub, add);
  verify_certificate(layout, code, add);
  // 6. Federation (docs/FEDERATION.md): the trust bundle applied, this spoke's standing at its hub, the
  // hub's spokes. A partner's trouble is a warning: this instance keeps working on its last bundle.
  verify_federation(layout, code, add);
  return rep;
}

}  // namespace dive::orch
