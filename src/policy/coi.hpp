#pragma once
// Communities of interest: access by tag matching (US-ONLY exact, ALL/ANY) and the coherence rules of
// the live decision (docs/POLICY.md rules 2.5 and 2.8). Declared in checks.hpp:
//   Violation coi_violation(const EvalContext&);
//   std::vector<std::string> coi_coherence_violations(const EvalContext&);
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dive::policy::coi {

inline constexpr size_t kLinearLimit = 16;  // above this many entries, membership uses a hash set

bool contains(const std::vector<std::string>& list, std::string_view value);
// Every element of `needles` is in `hay` (set semantics).
bool all_in(const std::vector<std::string>& needles, const std::vector<std::string>& hay);
// Some element of `a` is in `b`.
bool intersects(const std::vector<std::string>& a, const std::vector<std::string>& b);

}  // namespace dive::policy::coi
