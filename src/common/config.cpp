#include "common/config.hpp"

#include <cerrno>
#include <cstdlib>

#include "common/fs.hpp"
#include "common/strings.hpp"

extern char** environ;

namespace dive {

namespace {
void collect_leaves(Json& node, const std::string& path, std::vector<std::pair<std::string, Json*>>& out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it)
      collect_leaves(it.value(), path.empty() ? it.key() : path + "." + it.key(), out);
  } else if (!node.is_array()) {
    out.emplace_back(path, &node);
  }
}

std::string env_name_for(const std::string& path) {
  std::string name = "DIVE_" + to_upper(path);
  for (auto& c : name)
    if (c == '.' || c == '-') c = '_';
  return name;
}

Json parse_like(const Json& current, const std::string& text, const std::string& var) {
  auto bad = [&](const char* what) {
    return ConfigError("environment variable " + var + " must be " + what + " (got '" + text + "')");
  };
  if (current.is_boolean()) {
    std::string t = to_lower(text);
    if (t == "1" || t == "true" || t == "yes" || t == "on") return true;
    if (t == "0" || t == "false" || t == "no" || t == "off") return false;
    throw bad("a boolean");
  }
  if (current.is_number_integer() || current.is_number_unsigned()) {
    char* end = nullptr;
    errno = 0;
    long long v = std::strtoll(text.c_str(), &end, 10);
    if (errno != 0 || end == text.c_str() || *end != '\0') throw bad("an integer");
    return v;
  }
  if (current.is_number_float()) {
    char* end = nullptr;
    double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0') throw bad("a number");
    return v;
  }
  return text;
}
}  // namespace

Config Config::load(const std::string& path) {
  std::string text = read_file(path);
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw ConfigError("cannot parse " + path + ": " + e.what());
  }
  if (!j.is_object()) throw ConfigError(path + " must hold a JSON object");
  Config c(std::move(j));
  c.apply_env(process_env());
  return c;
}

std::map<std::string, std::string> Config::process_env() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    if (kv.rfind("DIVE_", 0) != 0) continue;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::vector<std::string> Config::apply_env(const std::map<std::string, std::string>& env) {
  std::vector<std::pair<std::string, Json*>> leaves;
  collect_leaves(root_, "", leaves);
  std::vector<std::string> applied;
  for (auto& [path, node] : leaves) {
    std::string var = env_name_for(path);
    auto it = env.find(var);
    if (it == env.end()) continue;
    *node = parse_like(*node, it->second, var);
    applied.push_back(var);
  }
  return applied;
}

const Json* Config::find(std::string_view dotted) const {
  return find_path(root_, dotted);
}

const Json* find_path(const Json& root, std::string_view dotted) {
  const Json* cur = &root;
  for (const auto& part : split(dotted, '.')) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(part);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

}  // namespace dive
