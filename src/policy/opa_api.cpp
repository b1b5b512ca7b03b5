#include "policy/opa_api.hpp"

#include "policy/engine.hpp"
#include "policy/input_parser.hpp"

namespace dive::policy {
namespace {

constexpr std::string_view kDataPrefixes[] = {"/v1/data/dive/authz/", "/v1/data/dive/authorization/"};

Json result_of(Query q, const Decision& d, const Input& in) {
  switch (q) {
    case Query::kAllow:
      return Json(d.allow);
    case Query::kReason:
      return Json(d.reason);
    case Query::kDecision:
      break;
  }
  return decision_to_json(d, in);
}

void append_result(std::string& out, Query q, const Decision& d, const Input& in) {
  out += "{\"result\":";
  switch (q) {
    case Query::kAllow:
      out += d.allow ? "true" : "false";
      break;
    case Query::kReason:
      append_json_string(out, d.reason);
      break;
    case Query::kDecision:
      append_decision_json(out, d, in);
      break;
  }
  out += '}';
}

void append_error(std::string& out, std::string_view message) {
  out += "{\"code\":\"invalid_parameter\",\"message\":";
  append_json_string(out, message);
  out += '}';
}

const Json& require_object_body(const Json& body) {
  if (!body.is_object()) throw InvalidInput("request body must be a JSON object");
  return body;
}

}  // namespace

std::optional<Query> query_for_path(std::string_view path) {
  for (std::string_view prefix : kDataPrefixes) {
    if (path.substr(0, prefix.size()) != prefix) continue;
    const std::string_view rule = path.substr(prefix.size());
    if (rule == "decision") return Query::kDecision;
    if (rule == "allow") return Query::kAllow;
    if (rule == "reason") return Query::kReason;
  }
  return std::nullopt;
}

bool is_batch_path(std::string_view path) {
  return path == "/v1/batch/data/dive/authz/decision" || path == "/v1/batch/data/dive/authorization/decision";
}

Json parse_body(std::string_view body) {
  if (body.size() > kMaxBodyBytes) throw InvalidInput("request body is larger than 1 MiB");
  // nlohmann stops at a NUL byte as if the text ended there; JSON never contains a raw NUL.
  if (const size_t nul = body.find('\0'); nul != std::string_view::npos)
    throw InvalidInput("malformed JSON at byte " + std::to_string(nul));
  try {
    return parse_json_limited(body, kMaxDepth);
  } catch (const std::invalid_argument& e) {
    throw InvalidInput(e.what());
  } catch (const std::exception&) {
    // nlohmann reports a number overflow (1e400) as out_of_range, not as a parse error.
    throw InvalidInput("malformed JSON");
  }
}

Input request_input(const Json& body) {
  require_object_body(body);
  auto it = body.find("input");
  if (it == body.end()) throw InvalidInput("request body has no input");
  return input_from_json(*it);
}

Json handle_query(Query q, const Json& body, const Bundle& bundle) {
  const Input in = request_input(body);
  const Decision d = evaluate(in, bundle);
  return Json{{"result", result_of(q, d, in)}};
}

Json handle_batch(const Json& body, const Bundle& bundle, BatchStats* stats) {
  require_object_body(body);
  auto it = body.find("inputs");
  if (it == body.end()) throw InvalidInput("request body has no inputs");
  if (!it->is_object()) throw InvalidInput("inputs must be an object");
  if (it->size() > kMaxBatchInputs)
    throw InvalidInput("batch has more than " + std::to_string(kMaxBatchInputs) + " inputs");
  BatchStats local;
  Json responses = Json::object();
  for (const auto& [id, input] : it->items()) {
    try {
      const Input in = input_from_json(input);
      const Decision d = evaluate(in, bundle);
      ++(d.allow ? local.allowed : local.denied);
      responses[id] = Json{{"result", decision_to_json(d, in)}};
    } catch (const InvalidInput& e) {
      ++local.rejected;
      responses[id] = error_body(e.what());
    }
  }
  if (stats) *stats = local;
  return Json{{"responses", std::move(responses)}};
}

Json policy_version(const Bundle* bundle) {
  return Json{
      {"result", {{"version", kPolicyVersion}, {"bundle", bundle ? Json(bundle->revision) : Json(nullptr)}}}};
}

Json error_body(std::string_view message) {
  return Json{{"code", "invalid_parameter"}, {"message", message}};
}

Answer answer(Query q, std::string_view request_body, const Bundle& bundle) {
  const Input in = parse_request_text(request_body);
  Decision d = evaluate(in, bundle);
  Answer a;
  a.body.reserve(q == Query::kDecision ? 2048 : 256);
  append_result(a.body, q, d, in);
  a.allow = d.allow;
  a.reason = std::move(d.reason);
  return a;
}

BatchAnswer answer_batch(std::string_view request_body, const Bundle& bundle) {
  auto entries = parse_batch_text(request_body);
  BatchAnswer a;
  a.body.reserve(64 + entries.size() * 2048);
  a.items.reserve(entries.size());
  a.body += "{\"responses\":{";
  bool first = true;
  for (const auto& [id, entry] : entries) {
    if (!first) a.body += ',';
    first = false;
    append_json_string(a.body, id);
    a.body += ':';
    if (!entry.error.empty()) {
      ++a.stats.rejected;
      append_error(a.body, entry.error);
      a.items.push_back(BatchItem{id, true, false, entry.error});
      continue;
    }
    const Decision d = evaluate(entry.input, bundle);
    ++(d.allow ? a.stats.allowed : a.stats.denied);
    append_result(a.body, Query::kDecision, d, entry.input);
    a.items.push_back(BatchItem{id, false, d.allow, d.reason});
  }
  a.body += "}}";
  return a;
}

}  // namespace dive::policy
