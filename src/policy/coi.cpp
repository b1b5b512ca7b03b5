#include "policy/coi.hpp"

#include <algorithm>
#include <unordered_set>

#include "policy/checks.hpp"
#include "policy/opa_format.hpp"
#include "policy/values.hpp"

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
  // Every branch reads object.get(input.subject, "acpCOI", []), undefined when subject is not an
  // object; an absent COI makes each branch's first test undefined.
  if (!resource.defined() || c.in.section(Section::kSubject) != Kind::kObject) return std::nullopt;
  const Field& acp = c.in[F::kAcpCOI];
  const Field& user = acp.defined() ? acp : rego::empty_array();

  if (rego::member("US-ONLY", resource) && !rego::is_single(user, "US-ONLY"))
    return "Resource requires US-ONLY COI. User has COI: " + sprintf_arg(user, 'v');
  // count(input.resource.COI) > 0: characters of a string, entries of an array or object.
  const auto resource_count = rego::count(resource);
  if (!resource_count || *resource_count == 0) return std::nullopt;
  // count(user_coi) > 0: the original skipped ALL/ANY for a subject without COIs (difference 1 closes
  // that, and then treats an acpCOI without entries like an empty one).
  const auto user_count = rego::count(user);
  if ((!user_count || *user_count == 0) && !c.options.coi_requires_membership) return std::nullopt;
  // object.get(input.resource, "coiOperator", "ALL"): a value other than "ALL"/"ANY" matches neither.
  const Field& op = c.in[F::kCoiOperator];
  const bool all = op.defined() ? op.equals("ALL") : true;
  const bool any = op.equals("ANY");
  // The sets {c | some c in x}: a string has no entries.
  if (all && !rego::all_in(resource, user))
    return "COI operator=ALL: user COI " + sprintf_arg(user, 'v') + " does not satisfy resource COI " +
           sprintf_arg(resource, 'v');
  if (any && !rego::intersects(resource, user))
    return "COI operator=ANY: user COI " + sprintf_arg(user, 'v') + " does not intersect resource COI " +
           sprintf_arg(resource, 'v');
  return std::nullopt;
}

std::vector<std::string> coi_coherence_violations(const EvalContext& c) {
  std::vector<std::string> out;
  const Field& coi = c.in[F::kCOI];
  const Field& rel = c.in[F::kReleasabilityTo];
  // Membership and iteration see the entries of an array or the values of an object; nothing else.
  if (coi.is_collection() && !coi.list.empty()) {
    const bool us_only = rego::member("US-ONLY", coi);
    const bool eu = rego::member("EU-RESTRICTED", coi);
    if (us_only) {
      for (size_t i = 0; i < coi.list.size(); ++i)
        if (!coi.string_entry(i) || coi.entry(i) != "US-ONLY")
          out.push_back("COI US-ONLY cannot be combined with foreign-sharing COIs: " +
                        rego::entry_sprintf_arg(coi, i, 's'));
    }
    if (eu && rego::member("NATO-COSMIC", coi))
      out.emplace_back("COI EU-RESTRICTED cannot be combined with NATO-COSMIC");
    if (eu && us_only) out.emplace_back("COI EU-RESTRICTED cannot be combined with US-ONLY");
    if (c.in[F::kCoiOperator].equals("ANY")) {
      static constexpr std::string_view kPairs[][2] = {
          {"CAN-US", "FVEY"}, {"GBR-US", "FVEY"}, {"AUKUS", "FVEY"}, {"NATO-COSMIC", "NATO"}};
      for (const auto& pair : kPairs) {
        if (rego::member(pair[0], coi) && rego::member(pair[1], coi)) {
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
  // Strict mode: count(COI) > 0 (a non-empty string counts, and has no entries: the union is empty),
  // then every entry of releasabilityTo outside the union of the COIs' members.
  if (c.in[F::kStrictCoiCoherence].is_true() && rel.is_collection() && !rel.list.empty() &&
      rego::count(coi).value_or(0) > 0) {
    std::vector<std::string> members;
    StringSet seen_tags;
    for (size_t i = 0; i < coi.list.size(); ++i) {
      // coi.members(name) looks a string up; each COI's members count once however often it is named.
      if (!coi.string_entry(i) || !seen_tags.emplace(coi.entry(i)).second) continue;
      if (auto it = c.bundle.coi_members.find(coi.entry(i)); it != c.bundle.coi_members.end())
        members.insert(members.end(), it->second.begin(), it->second.end());
    }
    std::string union_text;
    const bool large = members.size() > coi::kLinearLimit;
    const StringSet member_set = large ? StringSet(members.begin(), members.end()) : StringSet();
    for (size_t i = 0; i < rel.list.size(); ++i) {
      if (rel.string_entry(i) &&
          (large ? member_set.contains(rel.entry(i)) : coi::contains(members, rel.entry(i))))
        continue;
      if (union_text.empty()) union_text = opa::set(members);
      out.push_back("[STRICT] Releasability country " + rego::entry_sprintf_arg(rel, i, 's') +
                    " not in COI union " + union_text);
    }
  }
  // NOFORN: caveats truthy and "NOFORN" one of its entries; then count() and [0] of COI and
  // releasabilityTo (undefined for a number, null or boolean; [0] only of an array).
  const Field& caveats = c.in[F::kCaveats];
  if (caveats.truthy() && rego::member("NOFORN", caveats)) {
    if (const auto n = rego::count(coi)) {
      if (*n != 1)
        out.emplace_back("NOFORN caveat requires COI=[US-ONLY] (single COI)");
      else if (rego::first_equals(coi, "US-ONLY") == false)
        out.emplace_back("NOFORN caveat requires COI=[US-ONLY]");
    }
    if (const auto n = rego::count(rel)) {
      if (*n != 1)
        out.emplace_back("NOFORN caveat requires releasabilityTo=[USA] (single country)");
      else if (rego::first_equals(rel, "USA") == false)
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
