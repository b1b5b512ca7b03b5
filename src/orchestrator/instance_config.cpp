#include "orchestrator/instance_config.hpp"

#include <arpa/inet.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/fs.hpp"
#include "common/paths.hpp"
#include "common/random.hpp"
#include "common/strings.hpp"
#include "federation/instance_state.hpp"
#include "orchestrator/child_spec.hpp"
#include "orchestrator/db_roles.hpp"
#include "orchestrator/ports.hpp"
#include "orchestrator/service_user.hpp"
#include "store/local_postgres.hpp"

namespace dive::orch {

const char* to_string(Profile p) {
  return p == Profile::Test ? "test" : "dev";
}

std::optional<Profile> parse_profile(std::string_view s) {
  if (s == "dev") return Profile::Dev;
  if (s == "test") return Profile::Test;
  return std::nullopt;
}

bool is_hub(const std::string& code) {
  return code == kHubCode;
}

bool is_anchor(const Json& cfg) {
  return cfg.value("role", "") == "hub" || cfg.value("standalone", false);
}

bool is_anchor(const InstancePaths& paths) {
  if (is_hub(paths.code)) return true;
  try {
    return is_anchor(read_instance_config(paths));
  } catch (const std::exception&) {
    return false;
  }
}

Placement Placement::from_config(const Json& cfg) {
  Placement p;
  p.host = cfg.value("host", p.host);
  p.bind = cfg.value("bind", p.bind);
  return p;
}

namespace {
bool ipv4_literal(const std::string& s) {
  in_addr a{};
  return ::inet_pton(AF_INET, s.c_str(), &a) == 1;
}
}  // namespace

Placement make_placement(const std::string& host, const std::string& bind) {
  Placement p;
  if (!host.empty()) {
    bool name_ok = host.size() <= 253 && host.front() != '-' && host.front() != '.';
    for (char c : host)
      name_ok = name_ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.');
    if (!name_ok)
      throw std::invalid_argument(
          "--host must be a host name or an IPv4 address, without scheme or port (got '" + host + "')");
    p.host = to_lower(host);
    p.bind = ipv4_literal(host) ? host : "127.0.0.1";
  }
  if (!bind.empty()) {
    if (!ipv4_literal(bind))
      throw std::invalid_argument("--bind must be an IPv4 address such as 10.0.0.5 or 0.0.0.0 (got '" + bind +
                                  "')");
    p.bind = bind;
  }
  return p;
}

namespace {
Json breaker(int fail, int timeout_ms, int succ) {
  return Json{{"failure_threshold", fail}, {"timeout_ms", timeout_ms}, {"success_threshold", succ}};
}
}  // namespace

Json default_instance_config(const Layout& layout, const std::string& code, Profile profile, int shift,
                             const Placement& placement) {
  const bool test = profile == Profile::Test;
  auto url = [&](int port) { return "https://" + placement.host + ":" + std::to_string(port); };
  // The hub's URLs: from its instance.json when it is deployed in this home (it may have a host of its own).
  const auto hub_placement = [&] {
    if (is_hub(code)) return placement;
    try {
      return Placement::from_config(read_instance_config(layout.instance(std::string(kHubCode))));
    } catch (const std::exception&) {
      return Placement{};
    }
  }();
  auto hub_url = [&](int port) { return "https://" + hub_placement.host + ":" + std::to_string(port); };
  const bool standalone = !is_hub(code) && !fs::exists(layout.instance(std::string(kHubCode)).instance_json);
  const auto ip = resolve_ports(code, shift);
  const auto hub = resolve_ports(std::string(kHubCode), shift);
  const auto paths = layout.instance(code);
  const auto& p = ip.ports;
  // Where the hub is: in this home (its ports), or, for a standalone spoke, the hub it joined (hub.json).
  Json hub_section{{"code", kHubCode},
                   {"api_url", hub_url(hub.ports.api)},
                   {"idp_url", hub_url(hub.ports.idp)},
                   {"web_url", hub_url(hub.ports.web)},
                   {"postgres_port", hub.ports.postgres}};
  if (standalone) {
    hub_section = Json{{"code", kHubCode}, {"api_url", nullptr}};
    try {
      if (auto link = federation::read_hub_link(federation::FederationPaths::of(paths.dir)))
        hub_section = Json{{"code", link->hub_code}, {"api_url", link->hub_url}};
    } catch (const std::exception&) {
    }
  }
  Json ports_json = Json::object();  // every port of the table (ports.hpp named_ports), by name
  for (const auto& [name, port] : named_ports(p)) ports_json[name] = port;
  // Cooldowns: the defaults of docs/ORCHESTRATION.md; the test profile keeps every cooldown <= 5 s.
  auto cd = [&](int normal_ms) { return test ? std::min(normal_ms, 3000) : normal_ms; };
  Json j = {
      {"version", 1},
      {"code", code},
      {"name", instance_name(code)},
      {"role", is_hub(code) ? "hub" : "spoke"},
      // A spoke in a home without a hub (another machine): it keeps its own orchestration database and
      // revocation store, and reaches its hub over the network (docs/FEDERATION.md).
      {"standalone", standalone},
      {"profile", to_string(profile)},
      {"home", layout.home.string()},
      {"data_dir", dive::data_dir().string()},  // reference data (seed users and documents, tables)
      {"dir", paths.dir.string()},
      {"host", placement.host},
      {"bind", placement.bind},
      {"port_shift", shift},
      {"offset", ip.offset},
      {"ports", ports_json},
      {"urls",
       {{"web", url(p.web)},
        {"api", url(p.api)},
        {"idp", url(p.idp)},
        {"pdp", url(p.pdp)},
        {"kas", url(p.kas)}}},
      {"realm", "dive-v3-broker-" + to_lower(code)},
      {"issuer", url(p.idp) + "/realms/dive-v3-broker-" + to_lower(code)},
      {"tls",
       {{"cert_file", paths.cert_file.string()},
        {"key_file", paths.key_file.string()},
        {"ca_file", paths.ca_file.string()}}},
      {"database",
       {{"host", "127.0.0.1"},
        {"port", p.postgres},
        {"name", "dive"},
        {"user", "dive"},
        {"pool_min", 1},
        {"pool_max", 8},
        // Bounded waits (docs/RESILIENCE.md): connect, a free connection, the server's statement timeout
        // and the client's deadline of a whole call (which ends calls to a server that stopped answering).
        {"connect_timeout_s", 2},
        {"acquire_timeout_ms", 2000},
        {"statement_timeout_ms", 2500},
        {"query_timeout_ms", 3000}}},
      {"redis", {{"host", "127.0.0.1"}, {"port", p.redis}}},
      // The home's monitoring stack (docs/MONITORING.md), when it runs: the console's operations view shows
      // its active alerts.
      {"monitoring",
       {{"alertmanager_url", "https://localhost:" + std::to_string(monitoring_ports(shift).alertmanager)}}},
      {"blacklist_redis",
       {{"host", "127.0.0.1"},
        {"port", blacklist_redis_port(shift)},
        {"exporter_port", blacklist_redis_exporter_port(shift)}}},
      // The Prometheus exporters of this instance's PostgreSQL and Redis (docs/MONITORING.md).
      {"exporters", {{"enabled", true}}},
      {"hub", hub_section},
      {"breakers",
       {{"pdp", breaker(5, cd(60000), 2)},
        {"idp", breaker(3, cd(30000), 2)},
        {"database", breaker(5, cd(60000), 3)},
        {"kas", breaker(3, cd(30000), 2)},
        {"federation", breaker(3, cd(30000), 2)},
        {"blacklist_redis", breaker(3, cd(30000), 2)}}},
      {"health", {{"probe_timeout_ms", 2000}, {"slow_ms", 1000}, {"refresh_ms", test ? 1000 : 5000}}},
      {"http",
       {{"io_threads", 0},
        {"worker_threads", 0},  // four per core (docs/PERFORMANCE.md: more is slower)
        {"max_body_bytes", 1048576},
        {"read_timeout_ms", 10000},
        {"request_deadline_ms", 5000}}},
      {"supervisor",
       {{"restart_initial_ms", test ? 200 : 1000},
        {"restart_multiplier", 2.0},
        {"restart_max_ms", test ? 5000 : 30000},
        {"restart_jitter_ms", test ? 50 : 250},
        {"stable_after_ms", test ? 3000 : 30000},
        {"ready_timeout_ms", test ? 30000 : 60000},
        {"stop_grace_ms", 10000},
        {"health_interval_ms", test ? 500 : 2000},
        {"liveness_failures", 6}}},
      {"log", {{"level", "info"}, {"json", false}}},
      // docs/FEDERATION.md: heartbeats to the hub (stale after three missed) and trust-bundle polling.
      {"federation",
       {{"heartbeat_interval_ms", test ? 1000 : 30000},
        {"bundle_poll_ms", test ? 500 : 1000},
        {"revocation_relay_ms", test ? 1000 : 2000}}},
      {"seed", {{"count", test ? 50 : 500}}},
      // PostgreSQL's own default (128 MB) for a real instance: the audit chain and documents grow, and their
      // B-tree pages must stay cached; the test profile runs many instances side by side on one machine.
      {"postgres", {{"shared_buffers", test ? "32MB" : "128MB"}, {"fast_unsafe", test}}},
      {"revocation",
       {{"max_staleness_s", 300}, {"resync_interval_s", test ? 2 : 30}, {"user_retention_s", 1230}}},
      // docs/IDP.md. access_token_ttl_s must stay <= revocation.user_retention_s - 30 (the idp refuses
      // to start otherwise: a longer-lived token would outlive its user's logout).
      {"idp",
       {{"access_token_ttl_s", 900},
        {"refresh_token_ttl_s", 1800},
        {"session_max_s", 36000},
        {"code_ttl_s", 60},
        {"lockout_threshold", 5},
        {"lockout_minutes", 15},
        {"argon2", {{"memory_kib", 19456}, {"iterations", 2}, {"parallelism", 1}}}}},
      {"policy", {{"poll_interval_ms", test ? 250 : 1000}}},
      // docs/AUDIT.md: the hash-chained audit trail of every service (and of the pdp's decisions).
      {"audit", {{"enabled", true}, {"retention_days", 365}, {"queue_capacity", 20000}}},
  };
  return j;
}

Json merge_json(Json base, const Json& over) {
  if (!base.is_object() || !over.is_object()) return over;
  for (auto it = over.begin(); it != over.end(); ++it) {
    if (base.contains(it.key()) && base[it.key()].is_object() && it.value().is_object())
      base[it.key()] = merge_json(base[it.key()], it.value());
    else
      base[it.key()] = it.value();
  }
  return base;
}

Json read_instance_config(const InstancePaths& p) {
  auto text = try_read_file(p.instance_json);
  if (!text)
    throw std::runtime_error("instance " + p.code + " is not deployed (" + p.instance_json.string() +
                             " missing)");
  try {
    return Json::parse(*text);
  } catch (const Json::parse_error& e) {
    throw std::runtime_error("cannot parse " + p.instance_json.string() + ": " + e.what());
  }
}

Json write_instance_config(const Layout& layout, const std::string& code, Profile profile, int port_shift,
                           const std::optional<Placement>& placement) {
  auto paths = layout.instance(code);
  Placement where;
  if (placement) {
    where = *placement;
  } else if (auto text = try_read_file(paths.instance_json)) {
    try {
      where = Placement::from_config(Json::parse(*text));
    } catch (const std::exception&) {
    }
  }
  Json fresh = default_instance_config(layout, code, profile, port_shift, where);
  Json result = fresh;
  if (auto text = try_read_file(paths.instance_json)) {
    Json existing;
    try {
      existing = Json::parse(*text);
    } catch (const Json::parse_error&) {
      existing = Json::object();  // unreadable: regenerated (the old file is kept beside it)
      write_file_atomic(paths.instance_json.string() + ".broken", *text, 0644);
    }
    bool same_profile = existing.value("profile", "") == to_string(profile);
    if (same_profile && existing.is_object()) {
      result = merge_json(fresh, existing);
      // Derived fields always follow the table and the layout.
      for (const char* k : {"code",   "name", "role",       "standalone",      "home",  "data_dir", "dir",
                            "host",   "bind", "port_shift", "offset",          "ports", "urls",     "realm",
                            "issuer", "tls",  "redis",      "blacklist_redis", "hub",   "profile"})
        result[k] = fresh[k];
      result["database"]["port"] = fresh["database"]["port"];
    }
  }
  ensure_dir(paths.dir, 0755);
  write_file_atomic(paths.instance_json, result.dump(2) + "\n", 0644);
  return result;
}

namespace {

// The instance's secrets.json as it stands (empty before the first deploy). An unreadable file is an
// error: it holds the instance's passwords, so it is never regenerated.
Json existing_secrets(const InstancePaths& p) {
  auto text = try_read_file(p.secrets_json);
  if (!text) return Json::object();
  try {
    return Json::parse(*text);
  } catch (const Json::parse_error&) {
    throw std::runtime_error(
        p.secrets_json.string() +
        " is not valid JSON; it holds this instance's passwords, so it is not regenerated. "
        "Repair it, or nuke the instance to start over.");
  }
}

// Generates the missing database role passwords and OIDC client secrets; true when one was.
bool ensure_role_and_client_secrets(Json& s) {
  bool changed = false;
  // Each service's own database role (orchestrator/db_roles.hpp).
  if (!s.contains("database_roles") || !s["database_roles"].is_object()) {
    s["database_roles"] = Json::object();
    changed = true;
  }
  for (const auto& svc : db_role_services())
    if (!s["database_roles"].contains(svc) || !s["database_roles"][svc].is_string() ||
        s["database_roles"][svc].get<std::string>().empty()) {
      s["database_roles"][svc] = secure_token(24);
      changed = true;
    }
  // Confidential OIDC clients of the realm (public clients, dive-cli and dive-web, have no secret).
  if (!s.contains("clients") || !s["clients"].is_object()) {
    s["clients"] = Json::object();
    changed = true;
  }
  for (const char* client : {"dive-api", "dive-kas"}) {
    Json& c = s["clients"][client];
    if (!c.is_object() || !c.contains("secret") || !c["secret"].is_string() ||
        c["secret"].get<std::string>().empty()) {
      c = Json{{"secret", secure_token(32)}};
      changed = true;
    }
  }
  return changed;
}

}  // namespace

Json ensure_secrets(const InstancePaths& p, const std::optional<BlacklistAccess>& blacklist) {
  Json s = existing_secrets(p);
  bool changed = false;
  auto ensure = [&](const char* key, const std::optional<std::string>& value = std::nullopt,
                    size_t bytes = 24) {
    if (value && s.value(key, "") != *value) {
      s[key] = *value;
      changed = true;
    } else if (!s.contains(key) || !s[key].is_string() || s[key].get<std::string>().empty()) {
      s[key] = secure_token(bytes);
      changed = true;
    }
  };

  ensure("postgres_password");
  ensure("redis_password");
  if (blacklist) {
    ensure("blacklist_redis_password", blacklist->password);
    if (blacklist->user.empty()) {
      changed = changed || s.contains("blacklist_redis_user");
      s.erase("blacklist_redis_user");
    } else if (s.value("blacklist_redis_user", "") != blacklist->user) {
      s["blacklist_redis_user"] = blacklist->user;
      changed = true;
    }
  } else {
    ensure("blacklist_redis_password");
    // The hub's store: what its spokes use (an ACL user limited to the revocation keys and channels).
    ensure("blacklist_spoke_password");
  }
  ensure("test_user_password");  // every seeded test user of this instance (issue 4)
  ensure("admin_password");      // admin-<code>
  // 32 random bytes (base64url) that encrypt the IdP's signing keys and the KAS's private keys at rest.
  ensure("idp_key_encryption_key", std::nullopt, 32);
  ensure("kas_key_encryption_key", std::nullopt, 32);
  if (ensure_role_and_client_secrets(s)) changed = true;
  if (changed) write_secrets(p, s);
  return s;
}

Json service_secrets(const std::string& service, const Json& s) {
  Json out = Json::object();
  auto copy = [&](const char* key) {
    if (s.contains(key)) out[key] = s[key];
  };
  if (s.contains("database_roles") && s["database_roles"].contains(service)) {
    out["database_user"] = db_role_name(service);
    out["postgres_password"] = s["database_roles"][service];
  }
  // The services that revoke or check revocations (the pdp does neither; the web console has no secret yet).
  if (service == "api" || service == "idp" || service == "kas") {
    copy("blacklist_redis_user");
    copy("blacklist_redis_password");
  }
  if (service == "api") {
    copy("redis_password");
    copy("federation_credential");
  } else if (service == "idp") {
    copy("idp_key_encryption_key");
    copy("test_user_password");
    copy("admin_password");
    copy("clients");
  } else if (service == "kas") {
    copy("kas_key_encryption_key");
  }
  return out;
}

void write_service_secrets(const InstancePaths& p, const Json& s) {
  const fs::path dir = p.dir / "secrets";
  // As root each file belongs to its service's account, the folder to root:dive (traverse only); otherwise
  // everything runs as the invoking user (orchestrator/service_user.hpp).
  const auto group = service_account("redis");
  ensure_dir(dir, group ? 0710 : 0700);
  auto give = [](const fs::path& f, uid_t uid, gid_t gid) {
    if (::chown(f.c_str(), uid, gid) != 0)
      throw std::runtime_error("cannot give " + f.string() +
                               " to its service's account: " + std::strerror(errno));
  };
  if (group) give(dir, 0, group->gid);
  for (const auto& svc : service_names()) {
    const fs::path f = dir / (svc + ".json");
    write_file_atomic(f, service_secrets(svc, s).dump(2) + "\n", 0600);
    if (auto who = service_account(svc)) give(f, who->uid, who->gid);
  }
}

void write_secrets(const InstancePaths& p, const Json& s) {
  ensure_dir(p.dir, 0755);
  write_file_atomic(p.secrets_json, s.dump(2) + "\n", 0600);
  write_service_secrets(p, s);  // each service's part follows
}

Json read_secrets(const InstancePaths& p) {
  auto text = try_read_file(p.secrets_json);
  if (!text) throw std::runtime_error(p.secrets_json.string() + " is missing");
  try {
    return Json::parse(*text);
  } catch (const Json::parse_error& e) {
    throw std::runtime_error("cannot parse " + p.secrets_json.string() + ": " + e.what());
  }
}

std::string instance_db_conninfo(const InstancePaths& p, int connect_timeout_s) {
  Json cfg = read_instance_config(p);
  Json sec = read_secrets(p);
  const Json& d = cfg["database"];
  return store::pg_conninfo("127.0.0.1", static_cast<uint16_t>(cfg["ports"]["postgres"].get<int>()),
                            d.value("name", "dive"), d.value("user", "dive"), sec.at("postgres_password"),
                            connect_timeout_s);
}

}  // namespace dive::orch
