// The decision engine on a realistic mix of allow/deny inputs, single decisions and batches of 100:
//   Evaluate      – the engine alone on a parsed Input
//   ParseText / WriteDecision – the two halves of the fast path around Evaluate
//   DecisionText  – the fast path: request text → response text (what the pdp serves)
//   DecisionJson  – the Json DOM path: parse_body → handle_decision → dump
//   BatchText/BatchJson – one request of 100 inputs; items/s counts decisions
// Run: build/<dir>/bench/policy/bench_policy --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "common/fs.hpp"
#include "policy/bundle.hpp"
#include "policy/engine.hpp"
#include "policy/input_parser.hpp"
#include "policy/opa_api.hpp"

using namespace dive;
using namespace dive::policy;

namespace {

const Bundle& bundle() {
  static const auto b =
      parse_bundle(Json::parse(read_file(std::string(DIVE_POLICY_DATA_DIR) + "/policy-bundle.json")));
  return *b;
}

// An input as the API's PEP sends it (docs/POLICY.md "Input"), with the complete attributes.
Json pep_input() {
  return Json::parse(R"({
    "subject": {"authenticated": true, "uniqueID": "testuser-usa-4", "clearance": "SECRET",
                "countryOfAffiliation": "USA", "acpCOI": ["NATO", "FVEY"], "organizationType": "GOV",
                "issuer": "https://localhost:8443/realms/dive-v3-broker-usa", "dutyOrg": "USA_GOVERNMENT"},
    "action": {"operation": "get"},
    "resource": {"resourceId": "doc-USA-seed-1768953600000-00042", "classification": "SECRET",
                 "releasabilityTo": ["USA", "GBR", "CAN", "AUS", "NZL"], "COI": ["FVEY"], "coiOperator": "ALL",
                 "caveats": [], "creationDate": "2026-01-21T00:00:00.000Z", "encrypted": true,
                 "releasableToIndustry": false, "originalClassification": "SECRET", "originalCountry": "USA",
                 "natoEquivalent": "SECRET"},
    "context": {"currentTime": "2026-01-21T10:11:12.345Z", "sourceIP": "10.0.0.7", "deviceCompliant": true,
                "requestId": "b1f0c2d4-5e6f-4a1b-9c8d-7e6f5a4b3c2d", "acr": "1", "amr": ["pwd", "otp"],
                "auth_time": 1768990000, "tenant": "USA"}})");
}

// 10 inputs: 6 allowed, 4 denied, touching most checks.
std::vector<Json> mix() {
  std::vector<Json> v;
  auto add = [&](const char* patch) {
    Json in = pep_input();
    in.merge_patch(Json::parse(patch));
    v.push_back(std::move(in));
  };
  add("{}");  // allow + obligation
  add(R"({"resource":{"COI":["NATO"],"releasabilityTo":["USA","GBR","FRA","DEU"],"encrypted":false}})");  // allow
  add(R"({"subject":{"countryOfAffiliation":"FRA","clearance":"SECRET DÉFENSE","clearanceCountry":"FRA",
          "issuer":"https://localhost:8443/realms/dive-v3-broker-fra","acpCOI":["NATO"]},
          "resource":{"COI":["NATO"],"releasabilityTo":["USA","FRA"]}})");  // allow, federated
  add(R"({"subject":{"clearanceOriginal":"GEHEIM","clearanceCountry":"DEU","countryOfAffiliation":"DEU",
          "issuer":"https://localhost:8443/realms/dive-v3-broker-deu","acpCOI":["NATO"]},
          "resource":{"COI":["NATO"],"releasabilityTo":["USA","DEU"],"originalClassification":"SECRET",
          "originalCountry":"USA"}})");                                     // allow, equivalency
  add(R"({"resource":{"classification":"UNCLASSIFIED","COI":[],"releasabilityTo":["USA"]}})");     // allow
  add(R"({"subject":{"organizationType":"INDUSTRY"},"resource":{"releasableToIndustry":true}})");  // allow
  add(R"({"subject":{"clearance":"CONFIDENTIAL"}})");  // deny clearance
  add(R"({"subject":{"countryOfAffiliation":"FRA","issuer":"https://localhost:8443/realms/dive-v3-broker-fra"}})");  // deny releasability
  add(R"({"subject":{"acpCOI":["NATO"]},"resource":{"COI":["US-ONLY"],"releasabilityTo":["USA"],
          "caveats":["NOFORN"]}})");                // deny US-ONLY
  add(R"({"context":{"acr":"0","amr":["pwd"]}})");  // deny AAL
  return v;
}

std::vector<std::string> request_bodies() {
  std::vector<std::string> out;
  for (const auto& in : mix()) out.push_back(Json{{"input", in}}.dump());
  return out;
}

std::string batch_body(size_t n) {
  const auto inputs = mix();
  Json body = {{"inputs", Json::object()}};
  for (size_t i = 0; i < n; ++i) body["inputs"]["req-" + std::to_string(i)] = inputs[i % inputs.size()];
  return body.dump();
}

void BM_Evaluate(benchmark::State& state) {
  std::vector<Input> inputs;
  for (const auto& in : mix()) inputs.push_back(input_from_json(in));
  size_t i = 0, allowed = 0;
  for (auto _ : state) {
    const Decision d = evaluate(inputs[i++ % inputs.size()], bundle());
    allowed += d.allow;
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["allow_ratio"] = static_cast<double>(allowed) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_Evaluate);

// Breakdown of DecisionText: reading the request, and writing the decision document.
void BM_ParseText(benchmark::State& state) {
  const auto bodies = request_bodies();
  size_t i = 0;
  for (auto _ : state) {
    Input in = parse_request_text(bodies[i++ % bodies.size()]);
    benchmark::DoNotOptimize(in);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseText);

void BM_WriteDecision(benchmark::State& state) {
  std::vector<Input> inputs;
  std::vector<Decision> decisions;
  for (const auto& in : mix()) {
    inputs.push_back(input_from_json(in));
    decisions.push_back(evaluate(inputs.back(), bundle()));
  }
  size_t i = 0;
  std::string out;
  for (auto _ : state) {
    out.clear();
    const size_t k = i++ % inputs.size();
    append_decision_json(out, decisions[k], inputs[k]);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WriteDecision);

void BM_DecisionText(benchmark::State& state) {
  const auto bodies = request_bodies();
  size_t i = 0;
  for (auto _ : state) {
    Answer a = answer(Query::kDecision, bodies[i++ % bodies.size()], bundle());
    benchmark::DoNotOptimize(a.body.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecisionText);

void BM_AllowText(benchmark::State& state) {
  const auto bodies = request_bodies();
  size_t i = 0;
  for (auto _ : state) {
    Answer a = answer(Query::kAllow, bodies[i++ % bodies.size()], bundle());
    benchmark::DoNotOptimize(a.body.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AllowText);

void BM_DecisionJson(benchmark::State& state) {
  const auto bodies = request_bodies();
  size_t i = 0;
  for (auto _ : state) {
    const std::string out = handle_decision(parse_body(bodies[i++ % bodies.size()]), bundle()).dump();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecisionJson);

void BM_BatchText(benchmark::State& state) {
  const std::string body = batch_body(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    BatchAnswer a = answer_batch(body, bundle());
    benchmark::DoNotOptimize(a.body.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BatchText)->Arg(100);

void BM_BatchJson(benchmark::State& state) {
  const std::string body = batch_body(static_cast<size_t>(state.range(0)));
  for (auto _ : state) {
    const std::string out = handle_batch(parse_body(body), bundle()).dump();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BatchJson)->Arg(100);

}  // namespace

BENCHMARK_MAIN();
