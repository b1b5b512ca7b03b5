#include "policy/coi.hpp"

#include <algorithm>
#include <unordered_set>

#include "policy/checks.hpp"
#include "policy/opa_format.hpp"

namespace dive::policy {
namespace coi {

bool contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool all_in(const std::vector<std::string>& needles, const std::vector<std::string>& hay) {
  if (hay.size() <= kLinearLimit) {
    for (const auto& n : needles)
      if (!contains(hay, n)) return false;
    return true;
  }
  const StringSet set(hay.begin(), hay.end());
  for (const auto& n : needles)
    if (!set.contains(n)) return false;
  return true;
}

bool intersects(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (b.size() <= kLinearLimit) {
    for (const auto& x : a)
      if (contains(b, x)) return true;
    return false;
  }
  const StringSet set(b.begin(), b.end());
  for (const auto& x : a)
    if (set.contains(x)) return true;
  return false;
}

}  // namespace coi

Violation coi_violation(const EvalContext& c) {
  const Field& resource = c.in[F::kCOI];
  if (!resource.is_array()) return std::nullopt;  // no COI: nothing to satisfy
  static const std::vector<std::string> kNone;
  const Field& acp = c.in[F::kAcpCOI];
  const auto& user = acp.is_array() ? acp.list : kNone;  // object.get(subject, "acpCOI", [])

  if (coi::contains(resource.list, "US-ONLY") && !(user.size() == 1 && user[0] == "US-ONLY"))
    return "Resource requires US-ONLY COI. User has COI: " + opa::array(user);
  if (resource.list.empty()) return std::nullopt;
  // The original skipped ALL/ANY for a subject without COIs (difference 1 closes that).
  if (user.empty() && !c.options.coi_requires_membership) return std::nullopt;
  const Field& op = c.in[F::kCoiOperator];
  const std::string_view oper = op.is_string() ? std::string_view(op.str) : "ALL";
  if (oper == "ALL" && !coi::all_in(resource.list, user))
    return "COI operator=ALL: user COI " + opa::array(user) + " does not satisfy resource COI " +
           opa::array(resource.list);
  if (oper == "ANY" && !coi::intersects(resource.list, user))
    return "COI operator=ANY: user COI " + opa::array(user) + " does not intersect resource COI " +
           opa::array(resource.list);
  return std::nullopt;
}

std::vector<std::string> coi_coherence_violations(const EvalContext& c) {
  std::vector<std::string> out;
  const Field& coi = c.in[F::kCOI];
  const Field& rel = c.in[F::kReleasabilityTo];
  if (coi.is_array() && !coi.list.empty()) {
    const auto& tags = coi.list;
    const bool us_only = coi::contains(tags, "US-ONLY");
    const bool eu = coi::contains(tags, "EU-RESTRICTED");
    if (us_only) {
      for (const auto& x : tags)
        if (x != "US-ONLY") out.push_back("COI US-ONLY cannot be combined with foreign-sharing COIs: " + x);
    }
    if (eu && coi::contains(tags, "NATO-COSMIC"))
      out.emplace_back("COI EU-RESTRICTED cannot be combined with NATO-COSMIC");
    if (eu && us_only) out.emplace_back("COI EU-RESTRICTED cannot be combined with US-ONLY");
    if (c.in[F::kStrictCoiCoherence].is_true() && rel.is_array()) {
      std::vector<std::string> members;
      for (const auto& tag : tags) {
        if (auto it = c.bundle.coi_members.find(tag); it != c.bundle.coi_members.end())
          members.insert(members.end(), it->second.begin(), it->second.end());
      }
      std::string union_text;
      const bool large = members.size() > coi::kLinearLimit;
      const StringSet member_set = large ? StringSet(members.begin(), members.end()) : StringSet();
      for (const auto& r : rel.list) {
        if (large ? member_set.contains(r) : coi::contains(members, r)) continue;
        if (union_text.empty()) union_text = opa::set(members);
        out.push_back("[STRICT] Releasability country " + r + " not in COI union " + union_text);
      }
    }
    if (c.in[F::kCoiOperator].equals("ANY")) {
      static constexpr std::string_view kPairs[][2] = {
          {"CAN-US", "FVEY"}, {"GBR-US", "FVEY"}, {"AUKUS", "FVEY"}, {"NATO-COSMIC", "NATO"}};
      for (const auto& pair : kPairs) {
        if (coi::contains(tags, pair[0]) && coi::contains(tags, pair[1])) {
          std::string msg = "Subset+superset COIs [";
          msg += pair[0];
          msg += ", ";
          msg += pair[1];
          msg += "] invalid with ANY semantics";
          out.push_back(std::move(msg));
        }
      }
    }
  }
  const Field& caveats = c.in[F::kCaveats];
  if (caveats.is_array() && coi::contains(caveats.list, "NOFORN")) {
    if (coi.is_array()) {
      if (coi.list.size() != 1)
        out.emplace_back("NOFORN caveat requires COI=[US-ONLY] (single COI)");
      else if (coi.list[0] != "US-ONLY")
        out.emplace_back("NOFORN caveat requires COI=[US-ONLY]");
    }
    if (rel.is_array()) {
      if (rel.list.size() != 1)
        out.emplace_back("NOFORN caveat requires releasabilityTo=[USA] (single country)");
      else if (rel.list[0] != "USA")
        out.emplace_back("NOFORN caveat requires releasabilityTo=[USA]");
    }
  }
  if (out.size() > 1) {
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
  }
  return out;
}

}  // namespace dive::policy
