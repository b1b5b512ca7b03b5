#include "access/pdp_client.hpp"

namespace dive::access {

Decision decision_from_result(const Json& r) {
  if (!r.is_object() || !r.contains("allow") || !r["allow"].is_boolean())
    throw PdpUnavailable("the pdp answered without a decision");
  Decision d;
  d.allow = r["allow"].get<bool>();
  d.reason = r.value("reason", "");
  if (r.contains("obligations") && r["obligations"].is_array()) d.obligations = r["obligations"];
  if (r.contains("evaluation_details") && r["evaluation_details"].is_object())
    d.evaluation_details = r["evaluation_details"];
  return d;
}

PdpClient::PdpClient(net::HttpTransport& http, resilience::CircuitBreaker& breaker, std::string base_url,
                     Millis timeout)
    : http_(http), breaker_(breaker), base_(std::move(base_url)), timeout_(timeout) {}

namespace {
// The request id of the enforcement point's request (the input's context.requestId), sent along so that the
// pdp's audit record of the decision carries the same id as the api's or kas's (docs/AUDIT.md).
std::string request_id_of(const Json& input) {
  auto c = input.find("context");
  if (c == input.end() || !c->is_object()) return "";
  auto r = c->find("requestId");
  return r != c->end() && r->is_string() ? r->get<std::string>() : "";
}
}  // namespace

Json PdpClient::post(const std::string& path, const std::string& body, std::string* revision,
                     const std::string& request_id) {
  try {
    return breaker_.run([&] {
      net::ClientRequest req;
      req.method = "POST";
      req.url = base_ + path;
      req.headers.set("Content-Type", "application/json");
      if (!request_id.empty() && net::valid_request_id(request_id))
        req.headers.set("X-Request-Id", request_id);
      req.body = body;
      req.timeout = timeout_;
      auto resp = http_.send(req);
      if (resp.status != 200) throw PdpUnavailable("the pdp answered HTTP " + std::to_string(resp.status));
      if (revision) *revision = resp.headers.get("X-Dive-Policy-Revision").value_or("");
      try {
        return resp.json();
      } catch (const std::exception&) {
        throw PdpUnavailable("the pdp answered malformed JSON");
      }
    });
  } catch (const PdpUnavailable&) {
    throw;
  } catch (const resilience::BreakerOpenError& e) {
    throw PdpUnavailable(std::string("pdp circuit breaker open: ") + e.what());
  } catch (const std::exception& e) {
    throw PdpUnavailable(std::string("pdp unreachable: ") + e.what());
  }
}

Decision PdpClient::decide(const Json& input) {
  std::string revision;
  Json body =
      post("/v1/data/dive/authz/decision", Json{{"input", input}}.dump(), &revision, request_id_of(input));
  if (!body.contains("result")) throw PdpUnavailable("the pdp answered without a result");
  Decision d = decision_from_result(body["result"]);
  d.policy_revision = std::move(revision);
  return d;
}

std::vector<Decision> PdpClient::decide_batch(const std::vector<Json>& inputs) {
  if (inputs.empty()) return {};
  Json req{{"inputs", Json::object()}};
  for (size_t i = 0; i < inputs.size(); ++i) req["inputs"][std::to_string(i)] = inputs[i];
  std::string revision;
  Json body =
      post("/v1/batch/data/dive/authz/decision", req.dump(), &revision, request_id_of(inputs.front()));
  const Json& responses = body.contains("responses") ? body["responses"] : Json();
  if (!responses.is_object()) throw PdpUnavailable("the pdp batch answer has no responses");
  std::vector<Decision> out;
  out.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto it = responses.find(std::to_string(i));
    if (it == responses.end() || !it->contains("result"))
      throw PdpUnavailable("the pdp batch answer lacks input " + std::to_string(i));
    out.push_back(decision_from_result((*it)["result"]));
    out.back().policy_revision = revision;
  }
  return out;
}

}  // namespace dive::access
