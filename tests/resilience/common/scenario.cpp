#include "scenario.hpp"

#include <iostream>

#include "common/fs.hpp"

namespace dive::testing {

using namespace std::chrono_literals;

namespace {

// "https://host:4000" -> "https://host:<port>"
std::string with_port(const std::string& url, uint16_t port) {
  const auto colon = url.rfind(':');
  if (colon == std::string::npos || colon < 6) throw std::runtime_error("not a URL with a port: " + url);
  return url.substr(0, colon) + ":" + std::to_string(port);
}

}  // namespace

ResilienceHub::ResilienceHub(bool proxied)
    : cli_(std::make_unique<DiveCli>(std::vector<std::string>{"USA"})) {
  auto r = cli_->run({"hub", "deploy", "--profile", "test"});
  if (r.exit_code != 0) throw std::runtime_error("hub deploy failed:\n" + r.output);
  api_ = std::make_unique<ApiClient>(*cli_, "USA");
  if (!proxied) return;

  const Json cfg = cli_->instance_config("USA");
  const std::map<std::string, int> upstream{{"postgres", cfg["database"]["port"].get<int>()},
                                            {"pdp", cli_->port("USA", "pdp")},
                                            {"kas", cli_->port("USA", "kas")},
                                            {"blacklist", cfg["blacklist_redis"]["port"].get<int>()}};
  for (const auto& [name, port] : upstream) {
    auto p = std::make_unique<FaultProxy>("127.0.0.1", static_cast<uint16_t>(port));
    p->start();
    proxies_[name] = std::move(p);
  }
  // The api and the kas reach every dependency through its proxy; the other services directly.
  const Json stores{{"database", {{"port", proxies_["postgres"]->port()}}},
                    {"blacklist_redis", {{"port", proxies_["blacklist"]->port()}}}};
  Json api = stores, kas = stores;
  api["urls"] = {{"pdp", with_port(cfg["urls"]["pdp"], proxies_["pdp"]->port())},
                 {"kas", with_port(cfg["urls"]["kas"], proxies_["kas"]->port())}};
  kas["urls"] = {{"pdp", with_port(cfg["urls"]["pdp"], proxies_["pdp"]->port())}};
  // Twice as many handler threads as database connections, as a 4-core machine gets by default (four per
  // core): the scenarios then meet what a bigger machine meets, a pool that can run dry
  // (postgres-pool-exhausted), whatever the cores of the machine the tests run on.
  api["http"] = {{"worker_threads", 16}};
  const fs::path file = cli_->home() / "instances" / "usa" / "instance.json";
  Json on_disk = Json::parse(read_file(file));
  on_disk["service_overrides"] = {{"api", api}, {"kas", kas}};
  write_file_atomic(file, on_disk.dump(2) + "\n", 0644);
  restart("kas");
  restart("api");
  if (!settled()) throw std::runtime_error("the hub did not settle behind its proxies: " + health().dump());
}

ResilienceHub::~ResilienceHub() {
  api_.reset();
  cli_.reset();  // nukes what it deployed, then the proxies go
}

pid_t ResilienceHub::pid_of(const std::string& service) const {
  const Json s = status(service);
  return s.contains("pid") && s["pid"].is_number() ? s["pid"].get<pid_t>() : -1;
}

Json ResilienceHub::health(const std::string& service) const {
  auto [code, body] = cli_->https_get(cli_->port("USA", service), "/health/detailed");
  try {
    return Json::parse(body);
  } catch (const std::exception&) {
    return Json{{"status", "no answer"}, {"httpStatus", code}};
  }
}

std::string ResilienceHub::health_status(const std::string& service) const {
  const Json h = health(service);
  return h.is_object() ? h.value("status", "") : "";
}

Json ResilienceHub::breaker(const std::string& service, const std::string& name) const {
  const Json h = health(service);
  return h.is_object() && h.contains("circuitBreakers") && h["circuitBreakers"].contains(name)
             ? h["circuitBreakers"][name]
             : Json();
}

bool ResilienceHub::breaker_open(const std::string& service, const std::string& name) const {
  const Json b = breaker(service, name);
  return b.is_object() && b.value("state", "") == "OPEN";
}

void ResilienceHub::expect_breaker_opens(const std::string& service, const std::string& name,
                                         std::chrono::milliseconds bound) const {
  EXPECT_TRUE(wait_until([&] { return breaker_open(service, name); }, bound, 200ms))
      << service << "'s breaker " << name << " did not open: " << breaker(service, name).dump();
}

void ResilienceHub::expect_health_holds(const std::string& service, const std::string& status,
                                        std::chrono::milliseconds window) const {
  std::string seen;
  EXPECT_TRUE(holds_for(
      [&] {
        seen = health_status(service);
        return seen == status;
      },
      window, 250ms))
      << service << " should have stayed " << status << ", was " << seen;
}

double ResilienceHub::metric(const std::string& service, const std::string& name,
                             const std::string& labels) const {
  auto [code, text] = cli_->https_get(cli_->port("USA", service), "/metrics");
  if (code != 200) return 0;
  double sum = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.rfind(name, 0) != 0 || line.size() <= name.size()) continue;
    const char next = line[name.size()];
    if (next != '{' && next != ' ') continue;
    if (!labels.empty() && line.find(labels) == std::string::npos) continue;
    try {
      sum += std::stod(line.substr(line.rfind(' ') + 1));
    } catch (const std::exception&) {
    }
  }
  return sum;
}

bool ResilienceHub::settled(std::chrono::milliseconds bound) const {
  return wait_until(
      [&] {
        const Json st = cli_->run_json({"hub", "status", "--json"});
        for (const auto& s : st.value("services", Json::array())) {
          if (s.value("state", "") != "running") return false;
          if (s.contains("healthy") && s["healthy"].is_boolean() && !s["healthy"].get<bool>()) return false;
        }
        return health_status("api") == "healthy" && health_status("kas") != "unhealthy";
      },
      bound, 250ms);
}

void ResilienceHub::restart(const std::string& service) const {
  auto r = cli_->run({"hub", "restart", service});
  if (r.exit_code != 0) throw std::runtime_error("hub restart " + service + " failed:\n" + r.output);
}

ScenarioResult run_scenario(ResilienceHub& hub, const ScenarioSpec& spec, const std::function<void()>& inject,
                            const std::function<void()>& heal, const std::function<void()>& during,
                            const std::function<void()>& after) {
  ScenarioResult result;
  EXPECT_TRUE(hub.settled()) << spec.name
                             << ": the hub is not settled before the scenario: " << hub.health().dump();
  LoadDriver load(hub.cli(), hub.api(), spec.load);  // the suite's tokens: one OTP login per user
  if (!load.prepare()) {
    ADD_FAILURE() << spec.name << ": the load driver could not prepare";
    return result;
  }
  load.start();
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until([&] { return load.successes_since(started) >= 10; }, 30s))
      << spec.name << ": no baseline before the fault";

  // Whatever inject() or during() throw, the fault is healed: the next scenario starts from a sound hub.
  auto guarded = [&](const char* step, const std::function<void()>& fn) {
    try {
      if (fn) fn();
    } catch (const std::exception& e) {
      ADD_FAILURE() << spec.name << ": " << step << " threw: " << e.what();
    }
  };
  load.fault_begins();
  guarded("inject", inject);
  if (!::testing::Test::HasFatalFailure()) guarded("during", during);
  guarded("heal", heal);
  load.fault_ends();
  result.recovery = load.wait_recovered(spec.recovery_bound);
  EXPECT_TRUE(result.recovery.has_value())
      << spec.name << ": not back to the baseline within " << spec.recovery_bound.count() << " ms";
  guarded("after", after);
  load.stop();
  load.expect_clean(spec.recovery_bound, spec.allow_transport_errors);
  load.verify_acknowledged_writes();
  for (const auto& s : load.samples()) {
    ++result.requests;
    if (s.status == 0 || s.status >= 500) ++result.failed;
  }
  std::cout << "SCENARIO " << spec.name << ": recovered in "
            << (result.recovery ? std::to_string(result.recovery->count()) : std::string("-"))
            << " ms (bound " << spec.recovery_bound.count() << " ms); " << result.requests << " requests, "
            << result.failed << " failed (503 with a reason, in the fault window)" << std::endl;
  EXPECT_TRUE(hub.settled()) << spec.name
                             << ": the hub did not settle after the scenario: " << hub.health().dump();
  return result;
}

}  // namespace dive::testing
