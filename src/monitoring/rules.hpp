#pragma once
// Alert rule files (Prometheus rule groups, as Json trees): Prometheus durations, the test-profile variant
// (every `for:` shortened to a few seconds, so live tests see alerts fire quickly; the files in the
// repository stay the production ones), and the conventions every DIVE alert follows.
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"

namespace dive::monitoring {

// "90s", "1m", "1h30m", "250ms", "2d", "1w", "1y" -> milliseconds; nullopt when not a duration.
std::optional<Millis> parse_duration(std::string_view text);
// The shortest Prometheus spelling: 90000 ms -> "1m30s", 0 -> "0s".
std::string format_duration(Millis d);

// The `for:` of the test profile: a tenth of the production one, from 1 s to 15 s (0 stays 0). The order
// and most of the gaps are kept, so a cause (1m -> 6s) still fires before what follows from it (2m -> 12s).
Millis test_profile_for(Millis production);
// A rule file with every `for:` replaced by test_profile_for(). Throws on a `for:` that is not a duration.
Json test_profile_rules(Json rule_file);

// Every alert name in a rule file (a name with two severities appears once).
std::set<std::string> alert_names(const Json& rule_file);
// What breaks the conventions (docs/MONITORING.md): a `severity` label of critical|warning|info; summary,
// description and runbook_url annotations; runbook_url = docs/RUNBOOKS.md#<name in lower case>. Empty when
// every alert follows them.
std::vector<std::string> convention_problems(const Json& rule_file);

// Which alerts of `names` lack a firing case (an alert_rule_test expecting it) or a not-firing case (one
// with exp_alerts empty) in the promtool test files given.
std::vector<std::string> missing_test_cases(const std::set<std::string>& names,
                                            const std::vector<Json>& tests);

}  // namespace dive::monitoring
