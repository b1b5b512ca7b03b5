#pragma once
// The conformance table (tests/unit/policy/conformance.json): how a case becomes an input and a bundle.
// Shared by the in-process test and the one over HTTP against the service.
#include "common/json.hpp"

namespace dive::testing {

// A case's input: its own "input", or its base input with "patch" (merge patch), "set" (JSON pointers)
// and "remove" (JSON pointers) applied.
inline Json conformance_input(const Json& table, const Json& c) {
  if (c.contains("input")) return c["input"];
  Json in = table["bases"].at(c.at("base").get<std::string>());
  if (c.contains("patch")) in.merge_patch(c["patch"]);
  if (c.contains("set"))
    for (const auto& [ptr, value] : c["set"].items()) in[Json::json_pointer(ptr)] = value;
  if (c.contains("remove"))
    for (const auto& ptr : c["remove"]) {
      const Json::json_pointer p(ptr.get<std::string>());
      in[p.parent_pointer()].erase(p.back());
    }
  return in;
}

// A case's bundle document: the sample bundle (data/policy-bundle.json) or none ("builtin"), with the
// case's policy_options.
inline Json conformance_bundle_doc(const Json& c, const Json& sample_bundle) {
  Json doc = c.value("bundle", std::string("sample")) == "builtin" ? Json::object() : sample_bundle;
  if (c.contains("options")) doc["policy_options"] = c["options"];
  return doc;
}

}  // namespace dive::testing
