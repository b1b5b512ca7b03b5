#include "policy/decision.hpp"

#include <cstring>

#include "policy/checks.hpp"
#include "policy/values.hpp"

namespace dive::policy {
namespace {

// object.get(section, key, default) of an attribute.
Json raw(const Field& f, Json fallback) {
  return f.kind == Kind::kAbsent || f.kind == Kind::kInvalid ? fallback : rego::to_json(f);
}

Json obligations_json(const Decision& d, const Input& in) {
  Json list = Json::array();
  if (!d.kas_obligation) return list;
  const Field& rid = in[F::kResourceId];
  Json o = Json::object();
  o["type"] = "kas";
  o["action"] = "request_key";
  o["resourceId"] = raw(rid, nullptr);
  o["kaoId"] = "kao-" + sprintf_arg(rid, 's');
  o["kasEndpoint"] = raw(in[F::kKasUrl], Json(kDefaultKasEndpoint));
  o["reason"] = "Encrypted resource requires KAS key release";
  o["policyContext"] = {{"clearanceRequired", raw(in[F::kClassification], nullptr)},
                        {"countriesAllowed", raw(in[F::kReleasabilityTo], nullptr)},
                        {"coiRequired", raw(in[F::kCOI], Json::array())}};
  list.push_back(std::move(o));
  return list;
}

void append_raw(std::string& out, const Field& f, std::string_view fallback_json) {
  switch (f.kind) {
    case Kind::kString:
      return append_json_string(out, f.str);
    case Kind::kNull:
      out += "null";
      return;
    case Kind::kFalse:
      out += "false";
      return;
    case Kind::kTrue:
      out += "true";
      return;
    case Kind::kNumber:
      out += f.num.to_json().dump();
      return;
    case Kind::kArray:
      if (f.mixed) {
        out += f.str;  // canonical JSON, as dump() writes it
        return;
      }
      out += '[';
      for (size_t i = 0; i < f.list.size(); ++i) {
        if (i) out += ',';
        append_json_string(out, f.list[i]);
      }
      out += ']';
      return;
    case Kind::kObject:
      out += f.str;
      return;
    default:
      out += fallback_json;
      return;
  }
}

void append_bool(std::string& out, bool v) {
  using namespace std::string_view_literals;
  out += v ? "true"sv : "false"sv;
}

// Appends "key": and a value with a comma before every member but the first.
struct ObjectWriter {
  std::string& out;
  bool first = true;
  explicit ObjectWriter(std::string& o) : out(o) { out += '{'; }
  std::string& key(std::string_view k) {
    char buf[64];  // keys are short literals: one append per member
    size_t n = 0;
    if (!first) buf[n++] = ',';
    first = false;
    buf[n++] = '"';
    std::memcpy(buf + n, k.data(), k.size());
    n += k.size();
    buf[n++] = '"';
    buf[n++] = ':';
    out.append(buf, n);
    return out;
  }
  void boolean(std::string_view k, bool v) { append_bool(key(k), v); }
  void string(std::string_view k, std::string_view v) { append_json_string(key(k), v); }
  void raw(std::string_view k, const Field& f, std::string_view fallback) { append_raw(key(k), f, fallback); }
  void close() { out += '}'; }
};

}  // namespace

Json decision_to_json(const Decision& d, const Input& in) {
  const Checks& k = d.checks;
  Json checks = {{"authenticated", k.authenticated},
                 {"required_attributes", k.required_attributes},
                 {"clearance_sufficient", k.clearance_sufficient},
                 {"country_releasable", k.country_releasable},
                 {"coi_satisfied", k.coi_satisfied},
                 {"embargo_passed", k.embargo_passed},
                 {"ztdf_integrity_valid", k.ztdf_integrity_valid},
                 {"upload_releasability_valid", k.upload_releasability_valid},
                 {"authentication_strength_sufficient", k.authentication_strength_sufficient},
                 {"mfa_verified", k.mfa_verified},
                 {"industry_access_allowed", k.industry_access_allowed},
                 {"industry_clearance_cap_ok", k.industry_clearance_cap_ok},
                 {"coi_coherence_violations", k.coi_coherence_violations},
                 {"federation_trusted", k.federation_trusted}};
  Json subject = {{"uniqueID", raw(in[F::kUniqueID], "")},
                  {"clearance", raw(in[F::kClearance], "")},
                  {"clearanceOriginal", raw(in[F::kClearanceOriginal], "")},
                  {"clearanceCountry", raw(in[F::kClearanceCountry], "")},
                  {"country", raw(in[F::kCountry], "")},
                  {"organizationType", d.organization_type},
                  {"issuer", raw(in[F::kIssuer], "")},
                  {"tenant", d.subject_tenant}};
  Json resource = {{"resourceId", raw(in[F::kResourceId], "")},
                   {"classification", raw(in[F::kClassification], "")},
                   {"originalClassification", raw(in[F::kOriginalClassification], "")},
                   {"originalCountry", raw(in[F::kOriginalCountry], "")},
                   {"encrypted", raw(in[F::kEncrypted], false)},
                   {"ztdfEnabled", d.ztdf_enabled},
                   {"releasableToIndustry", d.releasable_to_industry}};
  Json authentication = {
      {"acr", raw(in[F::kAcr], "")}, {"amr", raw(in[F::kAmr], Json::array())}, {"aal_level", d.aal_level}};
  Json tenant = {
      {"current_tenant", d.current_tenant_from_input ? raw(in[F::kTenant], nullptr) : Json(d.current_tenant)},
      {"subject_tenant", d.subject_tenant},
      {"can_federate", k.federation_trusted}};
  Json details = Json::object();
  if (d.equivalency_details) {
    details = {{"user_clearance_original", raw(in[F::kClearanceOriginal], nullptr)},
               {"user_clearance_country", raw(in[F::kClearanceCountry], nullptr)},
               {"user_clearance_nato", raw(in[F::kClearance], nullptr)},
               {"resource_classification_original", raw(in[F::kOriginalClassification], nullptr)},
               {"resource_classification_country", raw(in[F::kOriginalCountry], nullptr)},
               {"resource_classification_nato", raw(in[F::kClassification], nullptr)}};
  }
  Json compliance = {{"ztdf_validation", d.ztdf_enabled},
                     {"kas_obligations", d.kas_obligation},
                     {"fail_closed_enforcement", true},
                     {"aal2_enforced", true},
                     {"classification_equivalency_enabled", true},
                     {"equivalency_applied", d.equivalency_applied},
                     {"equivalency_details", std::move(details)}};
  Json out = Json::object();
  out["allow"] = d.allow;
  out["reason"] = d.reason;
  out["obligations"] = obligations_json(d, in);
  out["evaluation_details"] = {
      {"checks", std::move(checks)},     {"subject", std::move(subject)},
      {"resource", std::move(resource)}, {"authentication", std::move(authentication)},
      {"tenant", std::move(tenant)},     {"acp240_compliance", std::move(compliance)}};
  return out;
}

namespace {

// The members of evaluation_details, each an object written at `out` (keys in sorted order, as
// decision_to_json's Json map writes them).
void write_compliance(std::string& out, const Decision& d, const Input& in) {
  ObjectWriter c(out);
  c.boolean("aal2_enforced", true);
  c.boolean("classification_equivalency_enabled", true);
  c.boolean("equivalency_applied", d.equivalency_applied);
  if (d.equivalency_details) {
    ObjectWriter e(c.key("equivalency_details"));
    e.raw("resource_classification_country", in[F::kOriginalCountry], "null");
    e.raw("resource_classification_nato", in[F::kClassification], "null");
    e.raw("resource_classification_original", in[F::kOriginalClassification], "null");
    e.raw("user_clearance_country", in[F::kClearanceCountry], "null");
    e.raw("user_clearance_nato", in[F::kClearance], "null");
    e.raw("user_clearance_original", in[F::kClearanceOriginal], "null");
    e.close();
  } else {
    c.key("equivalency_details") += "{}";
  }
  c.boolean("fail_closed_enforcement", true);
  c.boolean("kas_obligations", d.kas_obligation);
  c.boolean("ztdf_validation", d.ztdf_enabled);
  c.close();
}

void write_authentication(std::string& out, const Decision& d, const Input& in) {
  ObjectWriter a(out);
  a.string("aal_level", d.aal_level);
  a.raw("acr", in[F::kAcr], "\"\"");
  a.raw("amr", in[F::kAmr], "[]");
  a.close();
}

void write_checks(std::string& out, const Checks& k) {
  ObjectWriter c(out);
  c.boolean("authenticated", k.authenticated);
  c.boolean("authentication_strength_sufficient", k.authentication_strength_sufficient);
  c.boolean("clearance_sufficient", k.clearance_sufficient);
  c.key("coi_coherence_violations") += std::to_string(k.coi_coherence_violations);
  c.boolean("coi_satisfied", k.coi_satisfied);
  c.boolean("country_releasable", k.country_releasable);
  c.boolean("embargo_passed", k.embargo_passed);
  c.boolean("federation_trusted", k.federation_trusted);
  c.boolean("industry_access_allowed", k.industry_access_allowed);
  c.boolean("industry_clearance_cap_ok", k.industry_clearance_cap_ok);
  c.boolean("mfa_verified", k.mfa_verified);
  c.boolean("required_attributes", k.required_attributes);
  c.boolean("upload_releasability_valid", k.upload_releasability_valid);
  c.boolean("ztdf_integrity_valid", k.ztdf_integrity_valid);
  c.close();
}

void write_resource(std::string& out, const Decision& d, const Input& in) {
  ObjectWriter r(out);
  r.raw("classification", in[F::kClassification], "\"\"");
  r.raw("encrypted", in[F::kEncrypted], "false");
  r.raw("originalClassification", in[F::kOriginalClassification], "\"\"");
  r.raw("originalCountry", in[F::kOriginalCountry], "\"\"");
  r.boolean("releasableToIndustry", d.releasable_to_industry);
  r.raw("resourceId", in[F::kResourceId], "\"\"");
  r.boolean("ztdfEnabled", d.ztdf_enabled);
  r.close();
}

void write_subject(std::string& out, const Decision& d, const Input& in) {
  ObjectWriter s(out);
  s.raw("clearance", in[F::kClearance], "\"\"");
  s.raw("clearanceCountry", in[F::kClearanceCountry], "\"\"");
  s.raw("clearanceOriginal", in[F::kClearanceOriginal], "\"\"");
  s.raw("country", in[F::kCountry], "\"\"");
  s.raw("issuer", in[F::kIssuer], "\"\"");
  s.string("organizationType", d.organization_type);
  s.string("tenant", d.subject_tenant);
  s.raw("uniqueID", in[F::kUniqueID], "\"\"");
  s.close();
}

void write_tenant(std::string& out, const Decision& d, const Input& in) {
  ObjectWriter t(out);
  t.boolean("can_federate", d.checks.federation_trusted);
  if (d.current_tenant_from_input)
    t.raw("current_tenant", in[F::kTenant], "null");
  else
    t.string("current_tenant", d.current_tenant);
  t.string("subject_tenant", d.subject_tenant);
  t.close();
}

// [] or the one KAS obligation of an encrypted resource.
void write_obligations(std::string& out, const Decision& d, const Input& in) {
  if (!d.kas_obligation) {
    out += "[]";
    return;
  }
  const Field& rid = in[F::kResourceId];
  out += '[';
  ObjectWriter o(out);
  o.string("action", "request_key");
  o.string("kaoId", "kao-" + sprintf_arg(rid, 's'));
  o.raw("kasEndpoint", in[F::kKasUrl], "\"http://localhost:8080/request-key\"");
  {
    ObjectWriter p(o.key("policyContext"));
    p.raw("clearanceRequired", in[F::kClassification], "null");
    p.raw("coiRequired", in[F::kCOI], "[]");
    p.raw("countriesAllowed", in[F::kReleasabilityTo], "null");
    p.close();
  }
  o.string("reason", "Encrypted resource requires KAS key release");
  o.raw("resourceId", rid, "null");
  o.string("type", "kas");
  o.close();
  out += ']';
}

}  // namespace

void append_decision_json(std::string& out, const Decision& d, const Input& in) {
  ObjectWriter top(out);
  top.boolean("allow", d.allow);
  ObjectWriter details(top.key("evaluation_details"));
  write_compliance(details.key("acp240_compliance"), d, in);
  write_authentication(details.key("authentication"), d, in);
  write_checks(details.key("checks"), d.checks);
  write_resource(details.key("resource"), d, in);
  write_subject(details.key("subject"), d, in);
  write_tenant(details.key("tenant"), d, in);
  details.close();
  write_obligations(top.key("obligations"), d, in);
  top.string("reason", d.reason);
  top.close();
}

}  // namespace dive::policy
