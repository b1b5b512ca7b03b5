#include "policy/checks.hpp"

#include <optional>

#include "policy/coi.hpp"
#include "policy/levels.hpp"
#include "policy/opa_format.hpp"
#include "policy/rfc3339.hpp"
#include "policy/unicode.hpp"
#include "policy/values.hpp"

namespace dive::policy {
namespace {

constexpr int64_t kClockSkewNs = 300'000'000'000;  // 5 minutes

std::string count_text(size_t n) {
  return std::to_string(n);
}

// clearance_hierarchy lookup of the industry cap: canonical rank, 0 for anything else.
int cap_level(const Field& f) {
  if (!f.is_string()) return 0;
  return canonical_rank(f.str).value_or(0);
}

// Counts the top-level elements of a JSON array text; nullopt when the text is not exactly one
// JSON array (json.unmarshal(x) with is_array).
struct TopLevelCounter : nlohmann::json_sax<Json> {
  size_t depth = 0, count = 0;
  bool top_is_array = false, started = false;
  bool scalar() {
    started = true;
    if (depth == 1) ++count;
    return true;
  }
  bool open(bool array) {
    if (!started) top_is_array = array;
    scalar();
    ++depth;
    return true;
  }
  bool null() override { return scalar(); }
  bool boolean(bool) override { return scalar(); }
  bool number_integer(number_integer_t) override { return scalar(); }
  bool number_unsigned(number_unsigned_t) override { return scalar(); }
  bool number_float(number_float_t, const string_t&) override { return scalar(); }
  bool string(string_t&) override { return scalar(); }
  bool binary(binary_t&) override { return scalar(); }
  bool start_object(std::size_t) override { return open(false); }
  bool key(string_t&) override { return true; }
  bool end_object() override {
    --depth;
    return true;
  }
  bool start_array(std::size_t) override { return open(true); }
  bool end_array() override {
    --depth;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }
};

std::optional<size_t> json_array_length(std::string_view text) {
  // Go's decoder rejects a byte order mark; nlohmann would skip it.
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") return std::nullopt;
  TopLevelCounter counter;
  bool ok = false;
  try {
    ok = Json::sax_parse(text.begin(), text.end(), &counter);
  } catch (const std::exception&) {
    ok = false;
  }
  if (!ok || !counter.top_is_array) return std::nullopt;
  return counter.count;
}

}  // namespace

std::string sprintf_arg(const Field& f, char verb) {
  return rego::sprintf_arg(f, verb);
}

std::string acr_text(const Field& acr) {
  if (acr.kind == Kind::kNumber) return acr.num.go_text();
  return sprintf_arg(acr, 'v');
}

size_t amr_factor_count(const Field& amr) {
  if (amr.is_array()) return amr.list.size();
  if (amr.is_string()) return json_array_length(amr.str).value_or(1);
  return 0;
}

std::string_view aal_level(const Input& in) {
  const Field& acr = in[F::kAcr];
  const std::string text = acr.defined() ? acr_text(acr) : std::string();
  const std::string low = unicode::lower(text);
  if (low.find("gold") != std::string::npos || text == "2" || text == "3") return "AAL3";
  if (low.find("silver") != std::string::npos || low.find("aal2") != std::string::npos ||
      low.find("multi-factor") != std::string::npos || text == "1")
    return "AAL2";
  const Field& amr = in[F::kAmr];
  if (amr.defined() && amr_factor_count(amr) >= 2) return "AAL2";
  return "AAL1";
}

std::string_view resolved_org_type(const Input& in) {
  const Field& t = in[F::kOrganizationType];
  if (t.equals("GOV")) return "GOV";
  if (t.equals("MIL")) return "MIL";
  if (t.equals("INDUSTRY")) return "INDUSTRY";
  return "GOV";
}

bool resolved_industry_allowed(const Input& in) {
  return in[F::kReleasableToIndustry].is_true();
}

Violation not_authenticated(const EvalContext& c) {
  if (!c.in[F::kAuthenticated].truthy()) return "Subject is not authenticated";
  return std::nullopt;
}

Violation missing_required_attributes(const EvalContext& c) {
  const Input& in = c.in;
  const Field& uid = in[F::kUniqueID];
  const Field& clearance = in[F::kClearance];
  const Field& country = in[F::kCountry];
  const Field& rel = in[F::kReleasabilityTo];
  if (!uid.truthy()) return "Missing required attribute: uniqueID";
  if (uid.equals("")) return "Empty uniqueID is not allowed";
  if (!clearance.truthy()) return "Missing required attribute: clearance";
  if (clearance.equals("")) return "Empty clearance is not allowed";
  if (!country.truthy()) return "Missing required attribute: countryOfAffiliation";
  if (country.equals("")) return "Empty countryOfAffiliation is not allowed";
  if (!in[F::kClassification].truthy()) return "Missing required attribute: resource.classification";
  if (!rel.truthy()) return "Missing required attribute: resource.releasabilityTo";
  if (rel.kind == Kind::kNull) return "Null releasabilityTo is not allowed";
  // country.is_valid(x) is `x in valid_country_codes`: false for anything but a listed string.
  if (!(country.is_string() && c.bundle.country_codes.contains(country.str)))
    return "Invalid country code: " + sprintf_arg(country, 's') + " (must be ISO 3166-1 alpha-3)";
  // count(releasabilityTo) > 0 (undefined for a number or true), then the entries that are not valid
  // codes ({c | some c in releasabilityTo; ...}: none for a string).
  if (rel.is_collection() && !rel.list.empty()) {
    std::vector<std::string> invalid;
    if (!rel.mixed) {
      for (const auto& code : rel.list)
        if (!c.bundle.country_codes.contains(code)) invalid.push_back(code);
      if (invalid.empty()) return std::nullopt;
      return "Invalid country codes in releasabilityTo: " + opa::set(std::move(invalid));
    }
    std::vector<Json> invalid_other;
    for (size_t i = 0; i < rel.list.size(); ++i) {
      if (!rel.string_entry(i))
        invalid_other.push_back(rego::entry_json(rel, i));
      else if (!c.bundle.country_codes.contains(rel.entry(i)))
        invalid.emplace_back(rel.entry(i));
    }
    if (!invalid_other.empty()) {
      for (auto& code : invalid) invalid_other.emplace_back(std::move(code));
      return "Invalid country codes in releasabilityTo: " + rego::set_text(std::move(invalid_other));
    }
    if (!invalid.empty()) return "Invalid country codes in releasabilityTo: " + opa::set(std::move(invalid));
  }
  return std::nullopt;
}

Violation not_releasable_to_country(const EvalContext& c) {
  const Field& rel = c.in[F::kReleasabilityTo];
  const auto n = rego::count(rel);
  if (!n) return std::nullopt;  // count() of a number, boolean or null is undefined
  if (*n == 0) return "Resource releasabilityTo is empty (deny all)";
  const Field& country = c.in[F::kCountry];
  if (!country.defined() || rego::member(country, rel)) return std::nullopt;
  return "Country " + sprintf_arg(country, 's') + " not in releasabilityTo: " + sprintf_arg(rel, 'v');
}

Violation upload_not_releasable(const EvalContext& c) {
  if (!c.in[F::kOperation].equals("upload")) return std::nullopt;
  const Field& rel = c.in[F::kReleasabilityTo];
  const Field& country = c.in[F::kCountry];
  const auto n = rego::count(rel);
  if (!n || *n == 0 || !country.defined()) return std::nullopt;
  if (rego::member(country, rel)) return std::nullopt;
  return "Upload releasabilityTo must include uploader country: " + sprintf_arg(country, 's');
}

Violation under_embargo(const EvalContext& c) {
  const Field& created = c.in[F::kCreationDate];
  const Field& now = c.in[F::kCurrentTime];
  if (!created.truthy() || !now.truthy()) return std::nullopt;
  // parse_rfc3339: 0 when unparsable.
  const __int128 created_ns = created.is_string() ? parse_rfc3339_ns(created.str).value_or(0) : 0;
  const __int128 now_ns = now.is_string() ? parse_rfc3339_ns(now.str).value_or(0) : 0;
  if (!(now_ns < created_ns - kClockSkewNs)) return std::nullopt;
  // "available in N seconds": the whole seconds of creation − now.
  const __int128 remaining = (created_ns - now_ns) / 1'000'000'000;
  const long long secs = remaining > 0 ? static_cast<long long>(remaining) : 0;
  return "Resource under embargo until " + sprintf_arg(created, 's') + " (available in " +
         std::to_string(secs) + " seconds)";
}

Violation ztdf_integrity_violation(const EvalContext& c) {
  // `input.resource.ztdf` is truthy: present and not false, whatever its type (a ztdf that is not an
  // object has no policyHash: "policy hash missing").
  if (!ztdf_enabled(c.in)) return std::nullopt;
  const Field& validated = c.in[F::kIntegrityValidated];
  if (validated.kind == Kind::kFalse)
    return "ZTDF integrity validation failed (cryptographic binding compromised)";
  if (!c.in[F::kPolicyHash].truthy()) return "ZTDF policy hash missing (STANAG 4778 binding required)";
  if (!c.in[F::kPayloadHash].truthy()) return "ZTDF payload hash missing (integrity protection required)";
  if (!validated.truthy()) return "ZTDF integrity not validated (STANAG 4778 binding required)";
  return std::nullopt;
}

Violation authentication_strength_insufficient(const EvalContext& c) {
  const Field& cls = c.in[F::kClassification];
  const Field& acr = c.in[F::kAcr];
  const Field& amr = c.in[F::kAmr];
  if (!cls.defined() || cls.equals("UNCLASSIFIED") || !acr.truthy() || !amr.defined()) return std::nullopt;
  const std::string text = acr_text(acr);
  const std::string low = unicode::lower(text);
  for (std::string_view strong : {"silver", "gold", "aal2", "multi-factor"})
    if (low.find(strong) != std::string::npos) return std::nullopt;
  if (text == "1" || text == "2" || text == "3") return std::nullopt;
  const size_t factors = amr_factor_count(amr);
  if (factors >= 2) return std::nullopt;
  return "Classification " + sprintf_arg(cls, 'v') + " requires AAL2, but ACR='" + text + "' and only " +
         count_text(factors) + " factor(s)";
}

Violation mfa_not_verified(const EvalContext& c) {
  const Field& cls = c.in[F::kClassification];
  const Field& amr = c.in[F::kAmr];
  if (!cls.defined() || cls.equals("UNCLASSIFIED") || !amr.truthy()) return std::nullopt;
  const size_t factors = amr_factor_count(amr);
  if (factors >= 2) return std::nullopt;
  return "MFA required for " + sprintf_arg(cls, 'v') + ": need 2+ factors, got " + count_text(factors);
}

Violation industry_access_blocked(const EvalContext& c) {
  if (resolved_org_type(c.in) != "INDUSTRY" || resolved_industry_allowed(c.in)) return std::nullopt;
  // The message's object.get(input.resource, ...) is undefined when resource is not an object.
  if (c.in.section(Section::kResource) != Kind::kObject) return std::nullopt;
  const Field& flag = c.in[F::kReleasableToIndustry];
  return "Industry access denied: organizationType=INDUSTRY but resource.releasableToIndustry=" +
         (flag.defined() ? sprintf_arg(flag, 'v') : std::string("not set"));
}

Violation industry_clearance_exceeded(const EvalContext& c) {
  if (resolved_org_type(c.in) != "INDUSTRY") return std::nullopt;
  const Field& country = c.in[F::kCountry];
  const Field& cls = c.in[F::kClassification];
  if (!country.defined() || !cls.defined()) return std::nullopt;
  std::string max = "CONFIDENTIAL";
  const auto& b = c.bundle;
  if (auto it = b.industry_max.end(); b.has_tenant_configs && country.is_string() &&
                                      (it = b.industry_max.find(country.str)) != b.industry_max.end())
    max = it->second;
  else if (b.tenant_config_industry_max)
    max = *b.tenant_config_industry_max;
  const int resource_level = cap_level(cls);
  const int max_level = canonical_rank(max).value_or(0);
  if (resource_level <= max_level) return std::nullopt;
  return "Industry clearance cap exceeded: resource=" + sprintf_arg(cls, 's') + " (" +
         std::to_string(resource_level) + ") > tenant " + sprintf_arg(country, 's') + " max=" + max + " (" +
         std::to_string(max_level) + ")";
}

Federation federation(const EvalContext& c) {
  Federation f;
  const Field& issuer = c.in[F::kIssuer];
  const auto& issuers = c.bundle.issuer_tenant;
  const std::string* issuer_tenant = nullptr;
  if (issuer.truthy()) {
    f.issuer_present = true;
    // trusted_issuers[issuer]: only a string names an issuer.
    if (issuer.is_string())
      if (auto it = issuers.find(issuer.str); it != issuers.end()) issuer_tenant = &it->second;
  }
  f.trusted = issuer_tenant != nullptr;
  f.subject_tenant = f.trusted ? *issuer_tenant : "UNKNOWN";
  const Field& tenant = c.in[F::kTenant];
  if (tenant.defined()) {
    // `tenant := input.context.tenant`: the value, whatever its type.
    f.tenant_from_input = true;
    if (tenant.is_string()) f.current_tenant = tenant.str;
  } else if (issuer_tenant) {
    f.current_tenant = *issuer_tenant;
  } else if (c.bundle.tenant_id) {
    f.current_tenant = *c.bundle.tenant_id;
  } else {
    f.current_tenant = "USA";
  }
  // can_federate compares tenant names: a current tenant that is not a string matches nothing.
  const bool current_is_name = !f.tenant_from_input || tenant.is_string();
  if (f.trusted && current_is_name) {
    if (f.subject_tenant == f.current_tenant) {
      f.can_access = true;
    } else if (auto it = c.bundle.federation_matrix.find(f.subject_tenant);
               it != c.bundle.federation_matrix.end()) {
      f.can_access = it->second.contains(f.current_tenant);
    }
  }
  return f;
}

std::string current_tenant_text(const Federation& f, const Input& in) {
  return f.tenant_from_input ? sprintf_arg(in[F::kTenant], 's') : f.current_tenant;
}

bool ztdf_enabled(const Input& in) {
  const Kind k = in.section(Section::kZtdf);
  return k != Kind::kAbsent && k != Kind::kFalse;
}

}  // namespace dive::policy
