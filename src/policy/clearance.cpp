#include "policy/clearance.hpp"

#include "policy/levels.hpp"
#include "policy/unicode.hpp"

namespace dive::policy {
namespace {

std::string_view nato_text(const std::optional<int>& rank) {
  return rank ? kNatoLevels[*rank] : "null";
}

// clearance.sufficient(u, r): both canonical names and rank(u) >= rank(r); undefined (false) otherwise.
bool sufficient(std::string_view user, const Field& resource) {
  if (!resource.is_string()) return false;
  auto u = canonical_rank(user);
  auto r = canonical_rank(resource.str);
  return u && r && *u >= *r;
}

bool is_valid(const Field& f) {
  return f.is_string() && canonical_rank(f.str).has_value();
}

}  // namespace

std::optional<int> nato_level(const EvalContext& c, const Field& term, const Field& country) {
  if (!term.is_string()) return std::nullopt;
  const std::string up = unicode::upper(term.str);
  if (country.is_string()) {
    if (auto it = c.bundle.equivalency.find(country.str); it != c.bundle.equivalency.end()) {
      const auto& terms = c.options.case_insensitive_clearance_terms ? it->second.folded : it->second.exact;
      if (auto t = terms.find(up); t != terms.end()) return t->second;
    }
  }
  if (c.options.canonical_clearance_any_country) {
    if (auto r = english_rank(up)) return r;
  }
  std::string nato = up;
  for (char& ch : nato)
    if (ch == ' ' || ch == '-') ch = '_';
  return nato_rank(nato);
}

// uses_classification_equivalency: the four attributes are truthy and not null (any other type counts;
// such a side then resolves to no NATO level, which denies).
bool uses_equivalency(const Input& in) {
  for (F f : {F::kClearanceOriginal, F::kClearanceCountry, F::kOriginalClassification, F::kOriginalCountry})
    if (!in[f].truthy() || in[f].kind == Kind::kNull) return false;
  return true;
}

bool equivalency_applied(const EvalContext& c) {
  if (uses_equivalency(c.in)) return true;
  const Field& country = c.in[F::kClearanceCountry];
  const Field& clearance = c.in[F::kClearance];
  return country.truthy() && clearance.defined() && nato_level(c, clearance, country).has_value();
}

Violation insufficient_clearance(const EvalContext& c) {
  const Input& in = c.in;
  const Field& clearance = in[F::kClearance];
  const Field& classification = in[F::kClassification];
  const Field& country = in[F::kClearanceCountry];

  // Branch 1: cross-nation equivalency on NATO ranks (an unresolvable side denies).
  if (uses_equivalency(in)) {
    const Field& original = in[F::kClearanceOriginal];
    const Field& res_original = in[F::kOriginalClassification];
    const Field& res_country = in[F::kOriginalCountry];
    const auto user = nato_level(c, original, country);
    const auto res = nato_level(c, res_original, res_country);
    if (user && res && *user >= *res) return std::nullopt;
    std::string msg = "Insufficient clearance: ";
    msg += sprintf_arg(original, 's') + " (" + sprintf_arg(country, 's') + ") < " +
           sprintf_arg(res_original, 's') + " (" + sprintf_arg(res_country, 's') + ") [NATO: ";
    msg += nato_text(user);
    msg += " < ";
    msg += nato_text(res);
    msg += "]";
    return msg;
  }
  if (country.truthy()) {
    if (clearance.defined()) {
      const auto level = nato_level(c, clearance, country);
      if (level) {
        // Branch 2: the national clearance normalised to a canonical level.
        const std::string_view normalized = kCanonicalLevels[*level];
        if (!sufficient(normalized, classification) && classification.defined()) {
          std::string msg = "Insufficient clearance: user has " + sprintf_arg(clearance, 's') + " (";
          msg += normalized;
          msg += " normalized), resource requires " + sprintf_arg(classification, 's');
          return msg;
        }
      } else {
        // Branch 3: not a term of that country.
        return "Invalid clearance level: " + sprintf_arg(clearance, 's') + " not recognized for country " +
               sprintf_arg(country, 's');
      }
    }
  } else {
    // Branch 4: canonical levels compared directly.
    if (clearance.defined() && classification.defined() &&
        !(clearance.is_string() && sufficient(clearance.str, classification)))
      return "Insufficient clearance: user has " + sprintf_arg(clearance, 's') + ", resource requires " +
             sprintf_arg(classification, 's');
    // Branch 5 (shadowed by 4 unless classification is absent).
    if (clearance.defined() && !is_valid(clearance))
      return "Invalid clearance level: " + sprintf_arg(clearance, 's') +
             " (valid: " + std::string(kCanonicalSetText) + ")";
  }
  // Branch 6.
  if (classification.defined() && !is_valid(classification))
    return "Invalid clearance level: " + sprintf_arg(classification, 's') +
           " (valid: " + std::string(kCanonicalSetText) + ")";
  // DIVE's federation: the classification cap of the token's issuer (a spoke's users are never granted
  // more than its cap, whatever their own clearance says).
  if (const Field& issuer = in[F::kIssuer]; issuer.is_string() && classification.is_string()) {
    if (auto it = c.bundle.issuer_max_classification.find(issuer.str);
        it != c.bundle.issuer_max_classification.end()) {
      const auto cap = canonical_rank(it->second);
      const auto res = canonical_rank(classification.str);
      if (cap && res && *res > *cap)
        return "Insufficient clearance: the issuer's classification cap is " + it->second +
               ", resource requires " + classification.str;
    }
  }
  return std::nullopt;
}

}  // namespace dive::policy
