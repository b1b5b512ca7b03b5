#include "orchestrator/federation_ops.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "orchestrator/service_user.hpp"

#include <pqxx/pqxx>

#include "common/fs.hpp"
#include "common/mutex.hpp"
#include "common/random.hpp"
#include "documents/kas_keys.hpp"
#include "federation/enrollment.hpp"
#include "federation/instance_state.hpp"
#include "identity/keys.hpp"
#include "net/https_client.hpp"
#include "orchestrator/instance_config.hpp"
#include "orchestrator/ports.hpp"

namespace dive::orch {

namespace fed = dive::federation;
using namespace std::chrono_literals;

namespace {

InstancePaths hub_paths(const Layout& layout) {
  return layout.instance(std::string(kHubCode));
}

std::string read_ca(const Json& cfg) {
  return read_file(cfg["tls"].value("ca_file", ""));
}

// The instance's active KAS key (kid, public PEM), created when it has none; empty when its database
// cannot be reached (the registration then carries no KAS key until the next deploy).
std::pair<std::string, std::string> kas_key_of(const InstancePaths& p, bool required) {
  try {
    Json sec = read_secrets(p);
    auto kek = documents::decode_key_encryption_key(sec.value("kas_key_encryption_key", ""));
    pqxx::connection c(instance_db_conninfo(p, 2));
    auto k = documents::ensure_active_kas_key(c, kek);
    return {k.kid, k.public_key.to_pem()};
  } catch (const std::exception&) {
    if (required) throw;
    return {};
  }
}

identity::SigningKey bundle_key(const InstancePaths& hub) {
  auto p = fed::FederationPaths::of(hub.dir);
  auto text = try_read_file(p.bundle_key);
  if (!text)
    throw std::runtime_error("the hub has no bundle key (" + p.bundle_key.string() +
                             "); run ./dive hub deploy");
  return identity::SigningKey::from_pem(*text);
}

// secrets.json's federation_credential (created when missing); `replace` sets a new one.
std::string ensure_credential(const InstancePaths& p,
                              const std::optional<std::string>& replace = std::nullopt) {
  Json sec = read_secrets(p);
  std::string cred = sec.value("federation_credential", "");
  if (replace) cred = *replace;
  if (cred.empty()) cred = secure_token(32);
  if (sec.value("federation_credential", "") != cred) {
    sec["federation_credential"] = cred;
    write_secrets(p, sec);
  }
  return cred;
}

fed::TrustBundle parse_verified(const std::string& jws, const identity::VerifyKey& key) {
  auto v = fed::verify_bundle(jws, key);
  if (v.outcome != fed::VerifyOutcome::Ok) throw std::runtime_error("trust bundle not valid: " + v.error);
  return v.bundle;
}

}  // namespace

bool hub_in_home(const Layout& layout) {
  return fs::exists(hub_paths(layout).instance_json);
}

bool ensure_bundle_key(const InstancePaths& hub) {
  auto p = fed::FederationPaths::of(hub.dir);
  if (fs::exists(p.bundle_key)) return false;
  ensure_dir(p.dir, 0755);
  auto key = identity::SigningKey::generate_ec_p256();
  write_file_atomic(p.bundle_key, key.to_pem(), 0600);
  // The hub's api signs the bundles: as root, the key is its account's (and no other service's).
  if (auto api = service_account("api"); api && ::chown(p.bundle_key.c_str(), api->uid, api->gid) != 0)
    throw std::runtime_error("cannot give " + p.bundle_key.string() + " to " + api->name + ": " +
                             std::strerror(errno));
  return true;
}

namespace {
// `./dive up` deploys spokes in parallel threads, each of which registers the home's spokes: one at a time,
// so that a spoke's credential is created once and the registry holds its hash. It guards the hub's
// registry and the spokes' hub links (files and rows, not memory): the functions below that touch them
// require it.
Mutex local_registration_mu;

void join_local_spoke_locked(const Layout& layout, const std::string& code) REQUIRES(local_registration_mu) {
  auto paths = layout.instance(code);
  auto hub = hub_paths(layout);
  Json cfg = read_instance_config(paths);
  Json hub_cfg = read_instance_config(hub);
  const std::string ca = read_ca(cfg);
  const std::string credential = ensure_credential(paths);
  auto [kid, pem] = kas_key_of(paths, false);
  auto reg = fed::registration_from_instance(cfg, ca, kid, pem);
  {
    pqxx::connection c(instance_db_conninfo(hub, 3));
    fed::register_local_spoke(c, reg, fed::hash_secret(credential));
  }
  fed::HubLink link;
  link.hub_url = hub_cfg["urls"].value("api", "");
  link.hub_code = std::string(kHubCode);
  link.ca_fingerprint = fed::fingerprint_of_pem(read_ca(hub_cfg));
  link.bundle_key_pem = bundle_key(hub).public_key().to_pem();
  link.same_home = true;
  fed::write_hub_link(fed::FederationPaths::of(paths.dir), link, read_ca(hub_cfg));
}

fed::TrustBundle sync_hub_federation_locked(const Layout& layout) REQUIRES(local_registration_mu) {
  auto hub = hub_paths(layout);
  ensure_bundle_key(hub);
  for (const auto& code : layout.deployed_codes()) {
    if (is_hub(code)) continue;
    auto fp = fed::FederationPaths::of(layout.instance(code).dir);
    auto link = fed::read_hub_link(fp);
    if (!link || link->same_home) join_local_spoke_locked(layout, code);
  }
  Json hub_cfg = read_instance_config(hub);
  auto [kid, pem] = kas_key_of(hub, true);
  auto me = fed::member_from_instance(hub_cfg, read_ca(hub_cfg), kid, pem);
  auto key = bundle_key(hub);
  pqxx::connection c(instance_db_conninfo(hub, 3));
  fed::publish_bundle(c, fed::bundle_from_registry(me, fed::list_spokes(c)), key);
  auto latest = fed::latest_bundle(c);
  return parse_verified(latest->jws, key.public_key());
}
}  // namespace

void join_local_spoke(const Layout& layout, const std::string& code) {
  MutexLock lock(local_registration_mu);
  join_local_spoke_locked(layout, code);
}

fed::TrustBundle sync_hub_federation(const Layout& layout) {
  MutexLock lock(local_registration_mu);
  return sync_hub_federation_locked(layout);
}

JoinOptions make_join_options(const std::string& token, const std::string& hub_url,
                              const std::string& fingerprint, const std::string& code) {
  JoinOptions o;
  if (!token.empty()) {
    if (!hub_url.empty() || !fingerprint.empty())
      throw std::invalid_argument("--join carries the hub's URL and CA fingerprint: give it alone");
    auto t = fed::decode_token(token);
    if (t.code != code)
      throw std::invalid_argument("this enrollment token is for " + t.code + ", not " + code);
    o.hub_url = t.hub_url;
    o.ca_fingerprint = t.ca_fingerprint;
    o.token_secret = t.secret;
    return o;
  }
  if (hub_url.empty() && fingerprint.empty()) return o;
  if (hub_url.empty() || fingerprint.empty())
    throw std::invalid_argument(
        "--hub and --hub-ca-fingerprint go together (the fingerprint pins the hub's CA)");
  if (hub_url.rfind("https://", 0) != 0) throw std::invalid_argument("--hub must be an https:// URL");
  o.hub_url = hub_url;
  while (!o.hub_url.empty() && o.hub_url.back() == '/') o.hub_url.pop_back();
  o.ca_fingerprint = fed::normalize_fingerprint(fingerprint);
  return o;
}

std::string fetch_pinned_hub_ca(const JoinOptions& o) {
  net::ClientConfig cc;
  cc.verify = false;  // not trusted yet: what we receive is checked against the pinned fingerprint below
  net::HttpsClient http(cc);
  net::ClientRequest req;
  req.url = o.hub_url + "/api/federation/ca";
  req.timeout = 5s;
  net::ClientResponse resp;
  try {
    resp = http.send(req);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot reach the hub at " + o.hub_url + ": " + e.what());
  }
  if (resp.status != 200)
    throw JoinRefused("the hub at " + o.hub_url + " answered " + std::to_string(resp.status) + " for its CA",
                      "check the URL: it is the hub's api (./dive hub enroll prints it)");
  std::string got;
  try {
    got = fed::fingerprint_of_pem(resp.body);
  } catch (const std::exception&) {
    throw JoinRefused("the hub at " + o.hub_url + " sent no CA certificate", "check the URL");
  }
  if (got != o.ca_fingerprint)
    throw JoinRefused("the CA of " + o.hub_url + " has fingerprint " + fed::display_fingerprint(got) +
                          ", not the pinned " + fed::display_fingerprint(o.ca_fingerprint) +
                          ": refusing to join (wrong hub, or someone in between)",
                      "check the fingerprint with the hub's operator (./dive hub enroll prints it)");
  return resp.body;
}

JoinResult join_remote_hub(const Layout& layout, const std::string& code, const JoinOptions& o) {
  auto paths = layout.instance(code);
  auto fp = fed::FederationPaths::of(paths.dir);
  Json cfg = read_instance_config(paths);
  const std::string own_ca = read_ca(cfg);

  const std::string hub_ca = fetch_pinned_hub_ca(o);
  ensure_dir(fp.dir, 0755);
  write_file_atomic(fp.hub_ca, hub_ca, 0644);
  if (!fs::exists(fp.trust_pem)) write_file_atomic(fp.trust_pem, own_ca + "\n" + hub_ca, 0644);

  // 2. Registration over TLS verified against that CA.
  auto [kid, pem] = kas_key_of(paths, true);
  auto reg = fed::registration_from_instance(cfg, own_ca, kid, pem);
  net::ClientConfig cc;
  cc.ca_file = fp.hub_ca.string();
  net::HttpsClient http(cc);
  net::ClientRequest req;
  req.method = "POST";
  req.url = o.hub_url + "/api/federation/register";
  req.timeout = 10s;
  req.headers.set("Content-Type", "application/json");
  Json body{{"registration", reg.to_json()}};
  if (!o.token_secret.empty()) body["enrollmentToken"] = o.token_secret;
  req.body = body.dump();
  auto resp = http.send(req);
  Json j;
  try {
    j = resp.json();
  } catch (const std::exception&) {
    j = Json::object();
  }
  if (resp.status == 409 && fed::read_hub_link(fp) &&
      !read_secrets(paths).value("federation_credential", "").empty())
    return JoinResult{"enrolled", 0};  // a redeploy of a spoke that joined before
  if (resp.status >= 400 && resp.status < 500)
    throw JoinRefused("the hub refused the registration (" + std::to_string(resp.status) + " " +
                          j.value("reason", j.value("error", "")) + "): " + j.value("message", resp.body),
                      "ask the hub's operator for a new token: ./dive hub enroll " + code);
  if (resp.status != 201 && resp.status != 202)
    throw std::runtime_error("the hub refused the registration (" + std::to_string(resp.status) + " " +
                             j.value("reason", j.value("error", "")) + "): " + j.value("message", resp.body));
  ensure_credential(paths, j.value("credential", ""));
  fed::HubLink link;
  link.hub_url = o.hub_url;
  link.hub_code = j.value("hubCode", std::string(kHubCode));
  link.ca_fingerprint = o.ca_fingerprint;
  link.bundle_key_pem = j.value("bundleKeyPem", "");
  link.same_home = false;
  fed::write_hub_link(fp, link, hub_ca);
  return JoinResult{j.value("status", ""), j.value("bundleRevision", int64_t{0})};
}

std::optional<fed::TrustBundle> applied_bundle(const Layout& layout, const std::string& code) {
  auto paths = layout.instance(code);
  auto fp = fed::FederationPaths::of(paths.dir);
  auto jws = try_read_file(fp.bundle_jws);
  if (!jws) return std::nullopt;
  std::string key_pem;
  if (is_hub(code)) {
    key_pem = bundle_key(paths).public_key().to_pem();
  } else if (auto link = fed::read_hub_link(fp)) {
    key_pem = link->bundle_key_pem;
  } else {
    return std::nullopt;
  }
  auto v = fed::verify_bundle(*jws, identity::VerifyKey::from_pem(key_pem));
  if (v.outcome != fed::VerifyOutcome::Ok) return std::nullopt;
  return v.bundle;
}

Json federation_status_file(const Layout& layout, const std::string& code) {
  auto text = try_read_file(fed::FederationPaths::of(layout.instance(code).dir).status_json);
  if (!text) return Json::object();
  try {
    return Json::parse(*text);
  } catch (const std::exception&) {
    return Json::object();
  }
}

namespace {
pqxx::connection hub_db(const Layout& layout) {
  if (!hub_in_home(layout))
    throw std::runtime_error("no hub is deployed under " + layout.home.string() +
                             "; run this on the hub's machine (or set DIVE_HOME)");
  try {
    return pqxx::connection(instance_db_conninfo(hub_paths(layout), 3));
  } catch (const pqxx::broken_connection& e) {
    throw std::runtime_error("the hub's database is not reachable (is the hub up? ./dive hub up): " +
                             std::string(e.what()));
  }
}
}  // namespace

std::string forget_local_spoke(const Layout& layout, const std::string& code) {
  if (is_hub(code) || !hub_in_home(layout)) return "";
  try {
    MutexLock lock(local_registration_mu);
    bool removed = false;
    {
      pqxx::connection c(instance_db_conninfo(hub_paths(layout), 3));
      removed = fed::remove_local_spoke(c, code, "nuke");
    }
    if (!removed) return "";
    auto b = sync_hub_federation_locked(layout);
    return "removed from the federation registry (trust bundle revision " + std::to_string(b.revision) + ")";
  } catch (const std::exception& e) {
    return std::string("federation registry not updated (hub database not reachable: ") + e.what() + ")";
  }
}

Enrollment create_enrollment(const Layout& layout, const EnrollOptions& o) {
  auto hub = hub_paths(layout);
  Json hub_cfg = read_instance_config(hub);
  auto c = hub_db(layout);
  ensure_bundle_key(hub);
  const std::string secret = secure_token(32);
  fed::TokenOptions to;
  to.code = o.code;
  to.ttl = o.ttl;
  to.max_classification = o.max_classification;
  to.trust_level = o.trust_level;
  to.actor = "cli";
  std::string why;
  if (!fed::create_enrollment_token(c, to, secret, &why)) throw std::runtime_error(why);
  Enrollment e;
  e.hub_url = hub_cfg["urls"].value("api", "");
  e.ca_fingerprint = fed::fingerprint_of_pem(read_ca(hub_cfg));
  e.token = fed::encode_token({e.hub_url, e.ca_fingerprint, o.code, secret});
  e.expires_at = std::chrono::system_clock::now() + o.ttl;
  return e;
}

SpokeChange change_spoke(const Layout& layout, const std::string& code, fed::Action a,
                         const fed::ChangeOptions& o) {
  SpokeChange out;
  {
    auto c = hub_db(layout);
    out.result = fed::change_spoke(c, code, a, o, secure_token(32));
  }
  if (out.result.outcome != fed::ChangeOutcome::Done) return out;
  // A spoke of this home gets its new credential directly.
  if (a == fed::Action::Rotate) {
    auto link = fed::read_hub_link(fed::FederationPaths::of(layout.instance(code).dir));
    if (link && link->same_home) ensure_credential(layout.instance(code), out.result.credential);
  }
  out.bundle_revision = sync_hub_federation(layout).revision;
  return out;
}

std::vector<fed::SpokeRecord> list_spokes(const Layout& layout) {
  auto c = hub_db(layout);
  return fed::list_spokes(c);
}

Json spoke_audit(const Layout& layout, const std::string& code, int limit) {
  auto c = hub_db(layout);
  return fed::audit_log(c, code, limit);
}

std::chrono::milliseconds heartbeat_interval(const Layout& layout) {
  try {
    Json cfg = read_instance_config(hub_paths(layout));
    return std::chrono::milliseconds(
        cfg.value("federation", Json::object()).value("heartbeat_interval_ms", 30000));
  } catch (const std::exception&) {
    return 30000ms;
  }
}

}  // namespace dive::orch
