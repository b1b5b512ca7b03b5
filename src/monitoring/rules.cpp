#include "monitoring/rules.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <stdexcept>

namespace dive::monitoring {

std::optional<Millis> parse_duration(std::string_view text) {
  // Units largest first, as Prometheus requires; each at most once.
  static const std::vector<std::pair<std::string_view, int64_t>> units{{"y", 365LL * 24 * 3600 * 1000},
                                                                       {"w", 7LL * 24 * 3600 * 1000},
                                                                       {"d", 24LL * 3600 * 1000},
                                                                       {"h", 3600LL * 1000},
                                                                       {"m", 60LL * 1000},
                                                                       {"s", 1000},
                                                                       {"ms", 1}};
  if (text.empty()) return std::nullopt;
  if (text == "0") return Millis(0);
  int64_t total = 0;
  size_t next_unit = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 12) return std::nullopt;
    int64_t n = std::stoll(std::string(text.substr(start, i - start)));
    size_t ustart = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = text.substr(ustart, i - ustart);
    bool found = false;
    for (size_t u = next_unit; u < units.size(); ++u) {
      if (units[u].first == unit) {
        total += n * units[u].second;
        next_unit = u + 1;
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;
  }
  return Millis(total);
}

std::string format_duration(Millis d) {
  int64_t ms = d.count();
  if (ms <= 0) return "0s";
  static const std::vector<std::pair<const char*, int64_t>> units{
      {"d", 24LL * 3600 * 1000}, {"h", 3600LL * 1000}, {"m", 60LL * 1000}, {"s", 1000}, {"ms", 1}};
  std::string out;
  for (const auto& [name, size] : units) {
    if (ms >= size) {
      out += std::to_string(ms / size) + name;
      ms %= size;
    }
  }
  return out;
}

Millis test_profile_for(Millis production) {
  if (production.count() <= 0) return Millis(0);
  return std::clamp(Millis(production.count() / 10), Millis(1000), Millis(15000));
}

Json test_profile_rules(Json rule_file) {
  if (!rule_file.contains("groups")) return rule_file;
  for (auto& group : rule_file["groups"]) {
    if (!group.contains("rules")) continue;
    for (auto& rule : group["rules"]) {
      if (!rule.contains("for")) continue;
      const std::string f = rule["for"].is_string() ? rule["for"].get<std::string>() : rule["for"].dump();
      auto d = parse_duration(f);
      if (!d)
        throw std::runtime_error("rule " + rule.value("alert", "?") + ": `for: " + f + "` is not a duration");
      rule["for"] = format_duration(test_profile_for(*d));
    }
  }
  return rule_file;
}

std::set<std::string> alert_names(const Json& rule_file) {
  std::set<std::string> out;
  for (const auto& group : rule_file.value("groups", Json::array()))
    for (const auto& rule : group.value("rules", Json::array()))
      if (rule.contains("alert")) out.insert(rule["alert"].get<std::string>());
  return out;
}

std::vector<std::string> convention_problems(const Json& rule_file) {
  std::vector<std::string> out;
  for (const auto& group : rule_file.value("groups", Json::array())) {
    for (const auto& rule : group.value("rules", Json::array())) {
      if (!rule.contains("alert")) continue;
      const std::string name = rule["alert"];
      const Json labels = rule.value("labels", Json::object());
      const std::string sev = labels.value("severity", "");
      if (sev != "critical" && sev != "warning" && sev != "info")
        out.push_back(name + ": severity must be critical, warning or info (is \"" + sev + "\")");
      const Json ann = rule.value("annotations", Json::object());
      for (const char* key : {"summary", "description", "runbook_url"})
        if (!ann.contains(key) || !ann[key].is_string() || ann[key].get<std::string>().empty())
          out.push_back(name + ": annotation " + key + " missing");
      std::string anchor = name;
      std::transform(anchor.begin(), anchor.end(), anchor.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (ann.value("runbook_url", "") != "docs/RUNBOOKS.md#" + anchor)
        out.push_back(name + ": runbook_url must be docs/RUNBOOKS.md#" + anchor);
    }
  }
  return out;
}

std::vector<std::string> missing_test_cases(const std::set<std::string>& names,
                                            const std::vector<Json>& tests) {
  std::map<std::string, std::pair<bool, bool>> seen;  // name -> {fires, stays silent}
  for (const auto& file : tests)
    for (const auto& test : file.value("tests", Json::array()))
      for (const auto& t : test.value("alert_rule_test", Json::array())) {
        const std::string name = t.value("alertname", "");
        const Json exp = t.value("exp_alerts", Json::array());
        auto& s = seen[name];
        if (exp.is_array() && exp.empty())
          s.second = true;
        else
          s.first = true;
      }
  std::vector<std::string> out;
  for (const auto& name : names) {
    auto it = seen.find(name);
    if (it == seen.end() || !it->second.first) out.push_back(name + ": no case where it fires");
    if (it == seen.end() || !it->second.second) out.push_back(name + ": no case where it stays silent");
  }
  return out;
}

}  // namespace dive::monitoring
