#include "services/api/federation.hpp"

#include "services/api/federation_hub.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <set>

#include "common/encoding.hpp"
#include "common/fs.hpp"
#include "common/mutex.hpp"
#include "common/periodic.hpp"
#include "federation/enrollment.hpp"
#include "federation/hub_link_health.hpp"
#include "federation/instance_state.hpp"
#include "federation/registry.hpp"
#include "federation/trust_bundle.hpp"
#include "identity/keys.hpp"
#include "identity/redis_blacklist.hpp"
#include "identity/revocation_event.hpp"
#include "identity/revocation_limits.hpp"
#include "metrics/registry.hpp"
#include "net/https_client.hpp"
#include "resilience/health.hpp"
#include "services/runtime/service_context.hpp"
#include "store/pg_pool.hpp"

namespace dive::services {

namespace fed = dive::federation;
using namespace std::chrono_literals;

namespace {

// ---------------------------------------------------------------- the agent (every instance)

// Thread-safe: shared between the request threads (status, partners, partner, applied, hub_check: what they
// read is under mu_) and its poller thread (everything else, which only that thread touches).
class Agent : public FederationView {
 public:
  explicit Agent(ServiceContext& ctx)
      : ctx_(ctx),
        paths_(fed::FederationPaths::of(ctx.settings().dir)),
        hub_(ctx.settings().hub()),
        heartbeat_every_(ctx.settings().federation.heartbeat_interval),
        relay_every_(ctx.settings().federation.revocation_relay) {
    auto& reg = ctx.registry();
    applied_gauge_ = &reg.gauge("dive_v3_federation_bundle_revision",
                                "Trust bundle revision this instance applied (0: none)")
                          .unlabelled();
    refused_ = &reg.counter("dive_v3_federation_bundle_refused_total",
                            "Trust bundles refused (bad signature, older revision, malformed)", {"reason"});
    if (hub_) {
      spoke_up_ = &reg.gauge("dive_v3_federation_spoke_up",
                             "1 when an approved spoke's heartbeats are current, else 0", {"spoke"});
      last_beat_ = &reg.gauge("dive_v3_federation_last_heartbeat_timestamp_seconds",
                              "Unix time of the spoke's last heartbeat (0: never)", {"spoke"});
      spoke_status_ = &reg.gauge("dive_v3_federation_spoke_status",
                                 "1 for the spoke's current registry status", {"spoke", "status"});
    }
    user_retention_ = ctx.settings().revocation.user_retention;
    relayed_ = &reg.counter("dive_v3_federation_revocations_relayed_total",
                            "Revocations relayed across machines through the hub", {"direction"});
    load_applied();
    poll_ = std::make_unique<Periodic>(
        ctx.settings().federation.bundle_poll, [this] { tick(); },
        [this](const std::string& e) { set_error("bundle", e); }, true);
    // On a thread of its own: the poller may be waiting on a hub that does not answer.
    probe_ = std::make_unique<Periodic>(Millis(1000), [this] {
      fed::probe_recovering_partners(partners(), ctx_.http(), std::chrono::milliseconds(2000));
    });
  }
  ~Agent() {
    probe_.reset();
    poll_.reset();
  }

  Json status() const {
    MutexLock lock(mu_);
    Json members = Json::array();
    for (const auto& m : applied_->members)
      members.push_back(Json{{"code", m.code},
                             {"role", m.role},
                             {"apiUrl", m.api_url},
                             {"issuer", m.issuer},
                             {"allowedCountries", m.allowed_countries},
                             {"trustLevel", m.trust_level},
                             {"maxClassification", m.max_classification}});
    return Json{{"code", ctx_.code()},
                {"role", hub_ ? "hub" : "spoke"},
                {"federated", hub_ || !hub_url_.empty()},
                {"hubUrl", hub_url_.empty() ? Json(nullptr) : Json(hub_url_)},
                {"registryStatus", registry_status_.empty() ? Json(nullptr) : Json(registry_status_)},
                {"bundleRevision", applied_->revision},
                {"appliedAtMs", applied_at_ms_},
                {"members", members},
                {"lastHeartbeatMs", last_heartbeat_ms_ ? Json(last_heartbeat_ms_) : Json(nullptr)},
                {"errors", errors_}};
  }

  std::vector<fed::Partner> partners() override {
    const auto snapshot = applied();
    const fed::TrustBundle& b = *snapshot;
    std::map<std::string, fed::PartnerStatus> skip;
    {
      MutexLock lock(mu_);
      skip = peer_skip_;
    }
    std::vector<fed::Partner> out;
    for (const auto& m : b.members) {
      if (m.code == ctx_.code()) continue;
      fed::Partner p{m.code, m.api_url, &ctx_.partner_breaker(m.code), std::nullopt};
      if (auto it = skip.find(m.code); it != skip.end()) p.skip = it->second;
      out.push_back(std::move(p));
    }
    // Suspended instances are no longer members: listed so that a search reports them (the bundle names them;
    // the hub's heartbeat answers too).
    for (const auto& code : b.suspended) skip.emplace(code, fed::PartnerStatus::Suspended);
    for (const auto& [code, st] : skip)
      if (st == fed::PartnerStatus::Suspended && !b.member(code) && code != ctx_.code())
        out.push_back(fed::Partner{code, "", nullptr, st});
    return out;
  }

  std::optional<fed::Partner> partner(const std::string& code) override {
    const auto snapshot = applied();
    const auto* m = snapshot->member(code);
    if (!m || code == ctx_.code()) return std::nullopt;
    return fed::Partner{m->code, m->api_url, &ctx_.partner_breaker(m->code), std::nullopt};
  }

  std::optional<Kas> kas_of(const std::string& code) override {
    const auto snapshot = applied();
    const auto* m = snapshot->member(code);
    if (!m || m->kas_url.empty() || m->kas_public_key.empty()) return std::nullopt;
    return Kas{m->kas_url, m->kas_kid, m->kas_public_key};
  }

  bool is_member_kas(const std::string& url) override {
    const auto snapshot = applied();
    for (const auto& m : snapshot->members)
      if (m.kas_url == url) return true;
    return false;
  }

  // The applied bundle (for federated search and origin routing): a shared, immutable snapshot.
  std::shared_ptr<const fed::TrustBundle> applied() const {
    MutexLock lock(mu_);
    return applied_;
  }

  // The "hub" health check of a spoke (federation/hub_link_health.hpp): down while its hub does not answer.
  resilience::CheckResult hub_check() const {
    MutexLock lock(mu_);
    if (link_health_.up()) return resilience::CheckResult{true, "", link_health_.details(hub_url_)};
    return resilience::CheckResult{false, "the hub does not answer: " + link_health_.error(),
                                   link_health_.details(hub_url_)};
  }

 private:
  void set_error(const std::string& what, const std::string& e) {
    MutexLock lock(mu_);
    if (errors_.value(what, "") != e) spdlog::warn("federation {}: {}", what, e);
    errors_[what] = e;
  }
  void clear_error(const std::string& what) {
    MutexLock lock(mu_);
    errors_.erase(what);
  }

  std::optional<identity::VerifyKey> bundle_key() {
    std::string pem;
    if (hub_) {
      auto text = try_read_file(paths_.bundle_key);
      if (!text) return std::nullopt;
      pem = identity::SigningKey::from_pem(*text).public_key().to_pem();
    } else {
      if (!link_) return std::nullopt;
      pem = link_->bundle_key_pem;
    }
    return identity::VerifyKey::from_pem(pem);
  }

  // At start: the bundle applied before (verified again), so a restart does not forget its trust.
  void load_applied() {
    read_link();
    auto jws = try_read_file(paths_.bundle_jws);
    auto key = bundle_key();
    if (!jws || !key) return;
    auto v = fed::verify_bundle(*jws, *key);
    if (v.outcome != fed::VerifyOutcome::Ok) {
      set_error("bundle", "the stored bundle is not valid (" + v.error + "); waiting for the hub's");
      return;
    }
    MutexLock lock(mu_);
    applied_ = std::make_shared<const fed::TrustBundle>(v.bundle);
    applied_jws_ = *jws;
    applied_gauge_->set(static_cast<double>(applied_->revision));
  }

  // hub.json (absent until this instance joined a hub).
  void read_link() {
    try {
      link_ = fed::read_hub_link(paths_);
    } catch (const std::exception& e) {
      set_error("config", e.what());
    }
    MutexLock lock(mu_);
    hub_url_ = link_ ? link_->hub_url : "";
  }

  void tick() {
    if (hub_) {
      hub_tick();
    } else if (link_) {
      spoke_tick();
    } else {
      read_link();  // joined after this process started
    }
  }

  // Offers a bundle (as received) to this instance: verified, not older, applied.
  void offer(const std::string& jws) {
    auto key = bundle_key();
    if (!key) throw std::runtime_error("no bundle key to verify the trust bundle with");
    auto v = fed::verify_bundle(jws, *key);
    if (v.outcome != fed::VerifyOutcome::Ok) {
      refused_->labels({fed::to_string(v.outcome)}).inc();
      throw std::runtime_error("trust bundle refused, keeping revision " +
                               std::to_string(applied()->revision) + ": " + v.error);
    }
    int64_t have = applied()->revision;
    if (v.bundle.revision < have) {
      refused_->labels({"older"}).inc();
      throw std::runtime_error("trust bundle refused: revision " + std::to_string(v.bundle.revision) +
                               " is older than the applied " + std::to_string(have));
    }
    {
      MutexLock lock(mu_);
      if (v.bundle.revision == have && jws == applied_jws_) return;
    }
    std::string own_ca = own_ca_pem(ctx_);
    std::string policy_rev = ctx_.db().with(
        [&](pqxx::connection& c) { return fed::apply_bundle(c, paths_, v.bundle, jws, own_ca); });
    {
      MutexLock lock(mu_);
      applied_ = std::make_shared<const fed::TrustBundle>(v.bundle);
      applied_jws_ = jws;
      applied_at_ms_ = ctx_.clock().unix_millis();
      errors_.erase("bundle");
    }
    applied_gauge_->set(static_cast<double>(v.bundle.revision));
    spdlog::info("trust bundle {} applied: {} members, pdp data {}", v.bundle.revision,
                 v.bundle.members.size(), policy_rev.substr(0, 12));
    write_status();
  }

  void write_status() {
    try {
      ensure_dir(paths_.dir, 0755);
      write_file_atomic(paths_.status_json, status().dump(2) + "\n", 0644);
    } catch (const std::exception&) {
    }
  }

  void hub_tick() {
    // Spokes' liveness (metrics, peers not to call) first: a refused bundle below must not freeze them.
    auto spokes = ctx_.db().with([](pqxx::connection& c) { return fed::list_spokes(c); });
    auto now = ctx_.clock().wall();
    std::map<std::string, fed::PartnerStatus> skip;
    for (const auto& s : spokes) {
      if (s.status == fed::SpokeStatus::Suspended) skip[s.reg.code] = fed::PartnerStatus::Suspended;
      if (s.stale(now, heartbeat_every_)) skip[s.reg.code] = fed::PartnerStatus::Stale;
    }
    {
      MutexLock lock(mu_);
      peer_skip_ = skip;
    }
    for (const auto& s : spokes) {
      const bool up =
          s.status == fed::SpokeStatus::Approved && s.last_heartbeat && !s.stale(now, heartbeat_every_);
      spoke_up_->labels({s.reg.code}).set(up ? 1 : 0);
      last_beat_->labels({s.reg.code})
          .set(s.last_heartbeat ? std::chrono::duration<double>(s.last_heartbeat->time_since_epoch()).count()
                                : 0);
      for (auto st : {fed::SpokeStatus::Pending, fed::SpokeStatus::Approved, fed::SpokeStatus::Suspended,
                      fed::SpokeStatus::Revoked})
        spoke_status_->labels({s.reg.code, fed::to_string(st)}).set(s.status == st ? 1 : 0);
    }
    auto latest = ctx_.db().with([](pqxx::connection& c) { return fed::latest_bundle(c); });
    if (latest && latest->revision != applied()->revision) offer(latest->jws);
    clear_error("bundle");
  }

  net::ClientRequest hub_request(const std::string& method, const std::string& path) {
    net::ClientRequest r;
    r.method = method;
    r.url = link_->hub_url + path;
    r.timeout = 3s;
    if (credential_.empty()) reload_credential();
    r.headers.set("Authorization", fed::credential_header({ctx_.code(), credential_}));
    return r;
  }

  // The federation_credential of this service's secrets, read again when the hub refuses it (the deploy
  // writes it after the api started; an operator stores a rotated one with ./dive spoke credential).
  void reload_credential() {
    try {
      const std::string& dir = ctx_.settings().dir;
      auto text = try_read_file(dir + "/secrets/api.json");
      if (!text) text = try_read_file(dir + "/secrets.json");
      if (text) credential_ = Json::parse(*text).value("federation_credential", "");
    } catch (const std::exception&) {
    }
  }

  void spoke_tick() {
    auto now = ctx_.clock().now();
    if (now - last_beat_sent_ >= heartbeat_every_) {
      last_beat_sent_ = now;
      try {
        heartbeat();
        clear_error("heartbeat");
      } catch (const std::exception& e) {
        set_error("heartbeat", e.what());
      }
      write_status();  // ./dive federation status reads it
    }
    if (!link_->same_home && now - last_relay_ >= relay_every_) {
      last_relay_ = now;
      try {
        relay_revocations();
        clear_error("revocations");
      } catch (const std::exception& e) {
        set_error("revocations", e.what());
      }
    }
    auto req = hub_request("GET", "/api/federation/bundle");
    int64_t have = applied()->revision;
    if (have > 0) req.headers.set("If-None-Match", "\"" + std::to_string(have) + "\"");
    auto resp = to_hub(req);
    if (resp.status == 304) {
      clear_error("bundle");
      return;
    }
    if (resp.status == 403) {
      std::string st;
      try {
        st = resp.json().value("status", "");
      } catch (const std::exception&) {
      }
      set_registry_status(st.empty() ? "refused" : st);
      throw std::runtime_error("the hub does not serve this instance the trust bundle (status " +
                               (st.empty() ? std::string("unknown") : st) + ")");
    }
    if (resp.status == 401) {
      reload_credential();
      set_registry_status("unauthenticated");
      throw std::runtime_error("the hub does not accept this instance's credential (rotated or revoked?)");
    }
    if (resp.status != 200)
      throw std::runtime_error("the hub answered " + std::to_string(resp.status) + " for the trust bundle");
    set_registry_status("approved");
    offer(resp.body);
  }

  // Every request to the hub goes through here, so that the "hub" check knows whether the hub answers.
  net::ClientResponse to_hub(const net::ClientRequest& req) {
    try {
      auto resp = ctx_.http().send(req);
      MutexLock lock(mu_);
      const bool was_up = link_health_.up();
      link_health_.answered(resp.status, req.url, ctx_.clock().unix_millis());
      if (!was_up && link_health_.up()) spdlog::info("federation: the hub answers again");
      return resp;
    } catch (const std::exception& e) {
      MutexLock lock(mu_);
      link_health_.failed(e.what(), ctx_.clock().unix_millis());
      throw;
    }
  }

  void set_registry_status(const std::string& s) {
    bool changed;
    {
      MutexLock lock(mu_);
      changed = registry_status_ != s;
      registry_status_ = s;
    }
    if (changed) write_status();
  }

  // A spoke on another machine has a revocation store of its own: its own revocations go to the hub's (and so
  // to every instance of the hub's home), and the others' come back into its own (docs/FEDERATION.md).
  void relay_revocations() {
    identity::RedisBlacklist own(ctx_.blacklist(), ctx_.breaker(Breaker::BlacklistRedis));
    Json out = Json::array();
    std::map<std::string, int64_t> sending;
    std::set<std::string> present;
    for (const auto& e : own.snapshot()) {
      if (e.instance != ctx_.code()) continue;  // only what this instance revoked (no echo)
      present.insert(e.key());
      auto it = sent_.find(e.key());
      if (it != sent_.end() && it->second >= e.value) continue;
      out.push_back(e.to_json());
      sending[e.key()] = e.value;
    }
    if (!out.empty()) {
      auto req = hub_request("POST", "/api/federation/revocations");
      req.headers.set("Content-Type", "application/json");
      req.body = Json{{"events", out}}.dump();
      auto resp = to_hub(req);
      if (resp.status != 200)
        throw std::runtime_error("the hub answered " + std::to_string(resp.status) +
                                 " to relayed revocations");
      for (const auto& [k, v] : sending) sent_[k] = v;
      relayed_->labels({"out"}).inc(static_cast<double>(out.size()));
    }
    std::erase_if(sent_, [&](const auto& kv) { return !present.count(kv.first); });  // expired here
    auto req = hub_request("GET", "/api/federation/revocations");
    if (!relay_etag_.empty()) req.headers.set("If-None-Match", relay_etag_);
    auto resp = to_hub(req);
    if (resp.status == 304) return;
    if (resp.status != 200)
      throw std::runtime_error("the hub answered " + std::to_string(resp.status) + " for the revocations");
    Json body = resp.json();
    size_t applied = 0;
    std::set<std::string> at_hub;
    for (const auto& j : body.value("events", Json::array())) {
      auto e = identity::RevocationEvent::from_json(j);
      if (!e || e->instance == ctx_.code()) continue;
      at_hub.insert(e->key());
      auto it = received_.find(e->key());
      if (it != received_.end() && it->second >= e->value) continue;
      own.push(*e, user_retention_);
      received_[e->key()] = e->value;
      ++applied;
    }
    std::erase_if(received_, [&](const auto& kv) { return !at_hub.count(kv.first); });  // expired at the hub
    relay_etag_ = resp.headers.get("ETag").value_or("");
    if (applied > 0) {
      relayed_->labels({"in"}).inc(static_cast<double>(applied));
      spdlog::info("federation: {} revocations of other instances applied from the hub", applied);
    }
  }

  void heartbeat() {
    Json health = ctx_.health_report();
    auto req = hub_request("POST", "/api/federation/heartbeat");
    req.headers.set("Content-Type", "application/json");
    req.body = Json{{"health", Json{{"status", health.value("status", "unknown")}}},
                    {"bundleRevision", applied()->revision}}
                   .dump();
    auto resp = to_hub(req);
    if (resp.status == 200) {
      Json j = resp.json();
      std::map<std::string, fed::PartnerStatus> skip;
      const Json peers = j.value("peers", Json::object());
      for (auto it = peers.begin(); it != peers.end(); ++it)
        skip[it.key()] =
            it.value() == "suspended" ? fed::PartnerStatus::Suspended : fed::PartnerStatus::Stale;
      MutexLock lock(mu_);
      last_heartbeat_ms_ = ctx_.clock().unix_millis();
      registry_status_ = j.value("status", registry_status_);
      peer_skip_ = std::move(skip);
      return;
    }
    if (resp.status == 401) reload_credential();
    throw std::runtime_error("the hub answered " + std::to_string(resp.status) + " to the heartbeat");
  }

  ServiceContext& ctx_;
  fed::FederationPaths paths_;
  bool hub_;
  Millis heartbeat_every_;            // federation.heartbeat_interval_ms (settings.hpp)
  std::optional<fed::HubLink> link_;  // the poller's thread only (after construction)
  std::string credential_;            // the poller's thread only
  // Revocation relay (the poller's thread only): what was sent to / taken from the hub, by key.
  Millis relay_every_;
  std::chrono::seconds user_retention_{0};
  std::chrono::steady_clock::time_point last_relay_{};
  std::map<std::string, int64_t> sent_, received_;
  std::string relay_etag_;
  metrics::Family<metrics::Counter>* relayed_ = nullptr;
  std::chrono::steady_clock::time_point last_beat_sent_{};
  metrics::Gauge* applied_gauge_ = nullptr;
  metrics::Family<metrics::Counter>* refused_ = nullptr;
  metrics::Family<metrics::Gauge>*spoke_up_ = nullptr, *last_beat_ = nullptr, *spoke_status_ = nullptr;
  mutable Mutex mu_;
  std::shared_ptr<const fed::TrustBundle> applied_ GUARDED_BY(mu_) =
      std::make_shared<const fed::TrustBundle>();
  std::string hub_url_ GUARDED_BY(mu_);  // of link_, for status()
  std::string applied_jws_ GUARDED_BY(mu_);
  int64_t applied_at_ms_ GUARDED_BY(mu_) = 0;
  int64_t last_heartbeat_ms_ GUARDED_BY(mu_) = 0;
  std::string registry_status_ GUARDED_BY(mu_);
  Json errors_ GUARDED_BY(mu_) = Json::object();
  fed::HubLinkHealth link_health_ GUARDED_BY(mu_);  // whether the hub answers (spokes)
  // From the hub: suspended or stale peers.
  std::map<std::string, fed::PartnerStatus> peer_skip_ GUARDED_BY(mu_);
  std::unique_ptr<Periodic> poll_, probe_;  // last: stopped first
};

}  // namespace

std::shared_ptr<FederationView> add_federation(ServiceContext& ctx) {
  auto agent = std::make_shared<Agent>(ctx);
  ctx.keep(agent);
  ctx.router().add("GET", "/api/federation/status",
                   [a = agent.get()](net::Request&) { return net::Response::json(200, a->status()); });
  if (ctx.settings().hub()) {
    add_hub_registry(ctx);
  } else {
    // A spoke that cannot reach its hub keeps serving on its last trust bundle: degraded, not unhealthy.
    ctx.add_check("hub", resilience::Impact::Important, [a = agent.get()] { return a->hub_check(); });
  }
  return agent;
}

std::string own_ca_pem(const ServiceContext& ctx) {
  return try_read_file(ctx.settings().tls.ca_file).value_or("");
}

}  // namespace dive::services
