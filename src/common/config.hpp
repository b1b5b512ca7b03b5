#pragma once
// Configuration: a JSON document (an instance's instance.json) plus DIVE_* environment overrides.
//
// Every leaf of the document can be overridden by an environment variable named DIVE_ followed by its
// path, upper-cased, with '.' replaced by '_': `log.level` <- DIVE_LOG_LEVEL,
// `breakers.pdp.timeout_ms` <- DIVE_BREAKERS_PDP_TIMEOUT_MS. The value is parsed as the type of the leaf
// it replaces (a number must be a number); a bad value is an error that names the variable.
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace dive {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The value at a dotted path ("breakers.pdp.timeout_ms") of a document; null when a step is missing.
const Json* find_path(const Json& root, std::string_view dotted);

class Config {
 public:
  Config() : root_(Json::object()) {}
  explicit Config(Json root) : root_(std::move(root)) {}

  // Reads and parses the file, then applies overrides from the process environment.
  static Config load(const std::string& path);
  // Applies overrides from `env` (name -> value). Returns the names that were applied.
  std::vector<std::string> apply_env(const std::map<std::string, std::string>& env);
  static std::map<std::string, std::string> process_env();

  bool has(std::string_view dotted) const { return find(dotted) != nullptr; }
  const Json* find(std::string_view dotted) const;  // find_path of the document

  template <class T>
  T get(std::string_view dotted, T fallback) const {
    const Json* j = find(dotted);
    if (!j || j->is_null()) return fallback;
    try {
      return j->get<T>();
    } catch (const Json::exception&) {
      throw ConfigError("config key '" + std::string(dotted) + "' has the wrong type");
    }
  }
  template <class T>
  T require(std::string_view dotted) const {
    const Json* j = find(dotted);
    if (!j || j->is_null()) throw ConfigError("config key '" + std::string(dotted) + "' is missing");
    try {
      return j->get<T>();
    } catch (const Json::exception&) {
      throw ConfigError("config key '" + std::string(dotted) + "' has the wrong type");
    }
  }
  const Json& root() const { return root_; }
  Json& root() { return root_; }

 private:
  Json root_;
};

}  // namespace dive
