#include "federation_fixture.hpp"

#include <algorithm>
#include <map>

#include "common/encoding.hpp"
#include "common/fs.hpp"
#include "federation/enrollment.hpp"
#include "servers.hpp"

namespace dive::testing {

using namespace std::chrono_literals;

DiveCli* FederationResilience::hub_ = nullptr;
DiveCli* FederationResilience::fra_ = nullptr;
ApiClient* FederationResilience::usa_api_ = nullptr;
ApiClient* FederationResilience::fra_api_ = nullptr;
FaultProxy* FederationResilience::link_ = nullptr;
FaultProxy* FederationResilience::store_ = nullptr;

namespace {
std::map<std::string, std::string> briefs;  // code -> its "Coalition brief" document
}

void FederationResilience::SetUpTestSuite() {
  hub_ = new DiveCli({"USA"});
  auto r = hub_->run({"hub", "deploy", "--profile", "test", "--seed", "20"});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The spoke's path to its hub: a proxy in front of the hub's api (passing until a scenario degrades it).
  link_ = new FaultProxy("127.0.0.1", static_cast<uint16_t>(hub_->port("USA", "api")));
  link_->start();
  const std::string via_proxy = "https://127.0.0.1:" + std::to_string(link_->port());
  const std::string fingerprint = federation::fingerprint_of_pem(read_file(hub_->ca_file()));

  // FRA: another "machine" (127.0.0.2, a CA of its own), joined by approval through the proxy.
  fra_ = new DiveCli({"FRA"});
  r = fra_->run({"spoke", "deploy", "FRA", "--profile", "test", "--seed", "20", "--host", "127.0.0.2",
                 "--hub", via_proxy, "--hub-ca-fingerprint", fingerprint});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = hub_->run({"hub", "spokes", "approve", "FRA", "--reason", "resilience suite"});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The spoke's api reaches its own revocation store (a standalone spoke has its own blacklist Redis) through
  // a proxy as well (instance.json service_overrides, read by the api at its start).
  const fs::path fra_json = fra_->home() / "instances" / "fra" / "instance.json";
  Json fra_cfg = Json::parse(read_file(fra_json));
  store_ = new FaultProxy("127.0.0.1", fra_cfg["blacklist_redis"]["port"].get<uint16_t>());
  store_->start();
  fra_cfg["service_overrides"] = {{"api", {{"blacklist_redis", {{"port", store_->port()}}}}}};
  write_file_atomic(fra_json, fra_cfg.dump(2) + "\n", 0644);
  r = fra_->run({"spoke", "restart", "FRA", "api"});
  ASSERT_EQ(r.exit_code, 0) << r.output;

  usa_api_ = new ApiClient(*hub_, "USA");
  fra_api_ = new ApiClient(*fra_, "FRA");
  // Both sides have applied a bundle naming the two.
  for (auto* api : {usa_api_, fra_api_}) {
    bool both = wait_until([&] { return agent_status(*api).value("members", Json::array()).size() == 2; },
                           30s, 200ms);
    ASSERT_TRUE(both) << agent_status(*api).dump();
  }
  // One known document per instance, releasable to both (the seeded ones are random).
  for (auto [api, code] : {std::pair{usa_api_, "USA"}, std::pair{fra_api_, "FRA"}}) {
    auto up = api->call("api", "POST", "/api/resources", user_token(code),
                        Json{{"title", std::string("Coalition brief ") + code},
                             {"content", base64_encode(std::string("Coalition brief from ") + code)},
                             {"classification", "UNCLASSIFIED"},
                             {"releasabilityTo", {"USA", "FRA"}}});
    ASSERT_EQ(up.status, 201) << code << ": " << up.body.dump();
    briefs[code] = up.body.value("resourceId", "");
  }
  std::string why;
  ASSERT_TRUE(wait_until([&] { return at_baseline(&why); }, 30s, 250ms)) << why;
}

void FederationResilience::TearDownTestSuite() {
  delete usa_api_;
  delete fra_api_;
  delete fra_;  // nuke: only the processes these homes started
  delete hub_;
  delete link_;
  delete store_;
  usa_api_ = fra_api_ = nullptr;
  fra_ = hub_ = nullptr;
  link_ = store_ = nullptr;
}

void FederationResilience::SetUp() {
  ASSERT_NE(hub_, nullptr) << "the suite's deployment failed";
  ASSERT_NE(fra_api_, nullptr) << "the suite's deployment failed";
  // The previous scenario's tail (a breaker closing, a heartbeat) may still be settling: bounded.
  std::string why;
  ASSERT_TRUE(wait_until([&] { return at_baseline(&why); }, 30s, 250ms)) << "not at the baseline: " << why;
}

void FederationResilience::TearDown() {
  // Whatever a failed scenario left behind: the link passes, every service runs.
  if (link_) link_->pass();
  if (store_) store_->pass();
  auto start_stopped = [](const DiveCli* cli, const std::string& code) {
    if (!cli) return;
    Json st = code == "USA" ? cli->run_json({"hub", "status", "--json"})
                            : cli->run_json({"spoke", "status", code, "--json"});
    for (const auto& s : st.is_object() ? st.value("services", Json::array()) : Json::array()) {
      const std::string name = s.value("name", "");
      if (s.value("state", "") == "running" ||
          (name != "api" && name != "idp" && name != "kas" && name != "pdp"))
        continue;
      auto r = code == "USA" ? cli->run({"hub", "start", name}) : cli->run({"spoke", "start", code, name});
      EXPECT_EQ(r.exit_code, 0) << code << " " << name << ": " << r.output;
    }
  };
  start_stopped(hub_, "USA");
  start_stopped(fra_, "FRA");
}

std::string FederationResilience::user_token(const std::string& code) {
  const ApiClient& api = code == "USA" ? *usa_api_ : *fra_api_;
  std::string lower = code == "USA" ? "usa" : "fra";
  return api.token("testuser-" + lower + "-1", false);
}

const std::string& FederationResilience::brief(const std::string& code) {
  return briefs[code];
}

// ---------------------------------------------------------------- observations

std::pair<ApiReply, Ms> FederationResilience::search(const ApiClient& api, const std::string& token) {
  auto t0 = std::chrono::steady_clock::now();
  auto r = api.call("api", "GET", "/api/resources/federated-search?query=Coalition%20brief&limit=50", token);
  return {r, std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0)};
}

Json FederationResilience::instance_of(const Json& body, const std::string& code) {
  if (!body.is_object()) return Json::object();
  for (const auto& i : body.value("instances", Json::array()))
    if (i.value("instance", "") == code) return i;
  return Json::object();
}

Json FederationResilience::health(const ApiClient& api) {
  auto r = api.call("api", "GET", "/health");
  return r.body.is_object() ? r.body : Json{{"status", "no answer (HTTP " + std::to_string(r.status) + ")"}};
}

std::pair<std::string, std::string> FederationResilience::fresh_tokens_accepted_everywhere() {
  const std::string fra_tok = fra().login("testuser-fra-2").value("access_token", "");
  const std::string usa_tok = usa().login("testuser-usa-2").value("access_token", "");
  EXPECT_FALSE(fra_tok.empty() || usa_tok.empty());
  if (fra_tok.empty() || usa_tok.empty()) return {"", ""};
  for (const ApiClient* api : {&usa(), &fra()}) {
    const int f = me(*api, fra_tok), u = me(*api, usa_tok);
    EXPECT_EQ(f, 200);
    EXPECT_EQ(u, 200);
    if (f != 200 || u != 200) return {"", ""};
  }
  return {fra_tok, usa_tok};
}

bool FederationResilience::degraded_by(const ApiClient& api, const std::string& check) {
  const Json h = health(api);
  EXPECT_NE(h.value("status", ""), "unhealthy") << h.dump();
  return h.value("status", "") == "degraded" &&
         h.value("checks", Json::object()).value(check, Json::object()).value("status", "") == "down";
}

std::string FederationResilience::breaker_state(const ApiClient& api, const std::string& name) {
  return health(api).value("circuitBreakers", Json::object()).value(name, Json::object()).value("state", "");
}

Json FederationResilience::agent_status(const ApiClient& api) {
  auto r = api.call("api", "GET", "/api/federation/status");
  return r.body.is_object() ? r.body : Json::object();
}

int FederationResilience::me(const ApiClient& api, const std::string& token) {
  return api.call("api", "GET", "/api/auth/me", token).status;
}

Json FederationResilience::registry_entry(const std::string& code) {
  Json j = hub_->run_json({"hub", "spokes", "--json"});
  if (j.is_object())
    for (const auto& s : j.value("spokes", Json::array()))
      if (s.value("code", "") == code) return s;
  return Json::object();
}

bool FederationResilience::spoke_fresh(const std::string& code, int64_t after_ms) {
  Json s = registry_entry(code);
  return s.value("status", "") == "approved" && !s.value("stale", true) && s["lastHeartbeatMs"].is_number() &&
         s["lastHeartbeatMs"].get<int64_t>() > after_ms;
}

bool FederationResilience::at_baseline(std::string* why) {
  auto fail = [&](const std::string& w) {
    if (why) *why = w;
    return false;
  };
  for (const std::string code : {"USA", "FRA"}) {
    const ApiClient& api = code == "USA" ? *usa_api_ : *fra_api_;
    // The search first, then the health that reflects it.
    auto [r, ms] = search(api, user_token(code));
    if (r.status != 200 || r.body.value("partial", true))
      return fail(code + "'s federated search is not complete: " + std::to_string(r.status) + " " +
                  r.body.dump());
    Json h = health(api);
    if (h.value("status", "") != "healthy") return fail(code + " api is not healthy: " + h.dump());
  }
  Json fra = registry_entry("FRA");
  if (fra.value("stale", true) || fra.value("status", "") != "approved")
    return fail("FRA at the hub: " + fra.dump());
  return true;
}

// ---------------------------------------------------------------- load

LoadOptions FederationResilience::load_options(const std::string& code) {
  LoadOptions o;
  o.code = code;
  o.workers = 2;  // two cores, shared with two other suites
  return o;
}

std::unique_ptr<LoadDriver> FederationResilience::start_load(const std::string& code) {
  // Shares the scenario's ApiClient: a one-time code is accepted once per 30 s step.
  auto d = code == "USA" ? std::make_unique<LoadDriver>(*hub_, *usa_api_, load_options(code))
                         : std::make_unique<LoadDriver>(*fra_, *fra_api_, load_options(code));
  if (!d->prepare()) {
    ADD_FAILURE() << "the load driver could not prepare on " << code;
    return nullptr;
  }
  d->start();
  return d;
}

std::optional<Ms> FederationResilience::finish_load(LoadDriver& load, const std::string& code, Ms bound,
                                                    bool transport_errors_expected) {
  auto recovered = load.wait_recovered(bound);
  load.stop();
  EXPECT_TRUE(recovered.has_value()) << code << ": the load was not back to its baseline within "
                                     << bound.count() << " ms of the healing";
  EXPECT_TRUE(load.expect_clean(bound, transport_errors_expected))
      << code << ": the load saw a leak, a late answer or an error outside the fault window";
  EXPECT_GT(load.verify_acknowledged_writes(), 0) << code << ": no acknowledged upload to check";
  EXPECT_GT(load.count(), 0u) << code << ": no request was made";
  return recovered;
}

// ---------------------------------------------------------------- helpers

int64_t FederationResilience::wall_ms() {
  return std::chrono::duration_cast<Ms>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<Ms> FederationResilience::time_until(const std::function<bool()>& pred, Ms bound, Ms step) {
  auto t0 = std::chrono::steady_clock::now();
  if (!wait_until(pred, bound, step)) return std::nullopt;
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t0);
}

void FederationResilience::report(const std::string& scenario, std::initializer_list<std::optional<Ms>> parts,
                                  Ms bound) {
  std::optional<Ms> recovered = Ms(0);
  for (const auto& p : parts)
    recovered = p && recovered ? std::optional<Ms>(std::max(*p, *recovered)) : std::nullopt;
  if (recovered)
    std::printf("SCENARIO %s: recovered in %lld ms (bound %lld ms)\n", scenario.c_str(),
                static_cast<long long>(recovered->count()), static_cast<long long>(bound.count()));
  else
    std::printf("SCENARIO %s: NOT recovered within %lld ms\n", scenario.c_str(),
                static_cast<long long>(bound.count()));
  std::fflush(stdout);
}

std::string FederationResilience::log_of(const DiveCli& cli, const std::string& code,
                                         const std::string& service) {
  std::string lower = code;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  auto text = try_read_file(cli.home() / "instances" / lower / "logs" / (service + ".log")).value_or("");
  return text.size() > 200000 ? text.substr(text.size() - 200000) : text;
}

}  // namespace dive::testing
