#pragma once
// A PDP behind the HttpTransport interface: answers decisions from a rule, or fails like a down service.
#include <functional>
#include <memory>
#include <stdexcept>

#include "access/authorizer.hpp"
#include "common/clock.hpp"
#include "net/https_client.hpp"
#include "resilience/circuit_breaker.hpp"

namespace dive::access::testing {

class FakePdp : public net::HttpTransport {
 public:
  // rule(input) -> {allow, reason}
  std::function<std::pair<bool, std::string>(const Json&)> rule = [](const Json&) {
    return std::pair<bool, std::string>{true, "Access granted - all conditions satisfied"};
  };
  bool down = false;
  int status = 200;
  std::string revision = "rev-1";  // its data bundle revision (X-Dive-Policy-Revision)
  int calls = 0;

  net::ClientResponse send(const net::ClientRequest& req) override {
    ++calls;
    if (down) throw net::TransportError(net::TransportError::Kind::Connect, "connection refused");
    net::ClientResponse r;
    r.status = status;
    if (!revision.empty()) r.headers.set("X-Dive-Policy-Revision", revision);
    Json body = Json::parse(req.body);
    auto decide = [&](const Json& input) {
      auto [allow, reason] = rule(input);
      return Json{{"result",
                   {{"allow", allow},
                    {"reason", reason},
                    {"obligations", Json::array()},
                    {"evaluation_details", {{"checks", {{"clearance_sufficient", allow}}}}}}}};
    };
    if (body.contains("inputs")) {
      Json out{{"responses", Json::object()}};
      for (auto it = body["inputs"].begin(); it != body["inputs"].end(); ++it)
        out["responses"][it.key()] = decide(*it);
      r.body = out.dump();
    } else {
      r.body = decide(body["input"]).dump();
    }
    return r;
  }
};

// An Authorizer deciding through a FakePdp: the pdp client behind its breaker, and the decision cache, on a
// fake clock.
struct FakeAuthorizer {
  // The api's TtlDecisionCache (on the fake clock), or the kas's NullDecisionCache.
  enum class Cache { kTtl, kNone };
  explicit FakeAuthorizer(Cache kind)
      : cache(kind == Cache::kTtl ? std::unique_ptr<DecisionCache>(std::make_unique<TtlDecisionCache>(clock))
                                  : std::make_unique<NullDecisionCache>()),
        authorizer(client, *cache) {}

  FakeClock clock;
  FakePdp pdp;
  resilience::CircuitBreaker breaker{"pdp", resilience::BreakerConfig{}, clock};
  PdpClient client{pdp, breaker, "https://pdp.test"};
  std::unique_ptr<DecisionCache> cache;
  Authorizer authorizer;
};

}  // namespace dive::access::testing
