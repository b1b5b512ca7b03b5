#include "access/pdp_input.hpp"

#include "common/encoding.hpp"
#include "ztdf/encrypt.hpp"
#include "ztdf/label.hpp"

namespace dive::access {

Json subject_from_token(const identity::VerifiedToken& t) {
  Json s = Json::object();
  s["authenticated"] = true;
  auto copy = [&](const char* claim, const char* as) {
    auto it = t.claims.find(claim);
    if (it != t.claims.end() && !it->is_null()) s[as] = *it;
  };
  copy("uniqueID", "uniqueID");
  copy("clearance", "clearance");
  copy("countryOfAffiliation", "countryOfAffiliation");
  copy("acpCOI", "acpCOI");
  copy("organizationType", "organizationType");
  copy("dutyOrg", "dutyOrg");
  copy("orgUnit", "orgUnit");
  copy("clearanceOriginal", "clearanceOriginal");
  copy("clearanceCountry", "clearanceCountry");
  s["issuer"] = t.issuer;
  return s;
}

namespace {
// The context without its two volatile members (what a decision-cache key covers).
Json stable_context(const identity::VerifiedToken& t, const InputContext& ctx) {
  Json context{{"acr", t.acr}, {"amr", t.amr}, {"tenant", ctx.tenant}};
  if (t.auth_time > 0) context["auth_time"] = t.auth_time;
  return context;
}
}  // namespace

Json build_input(const identity::VerifiedToken& t, std::string_view operation, Json resource,
                 const InputContext& ctx) {
  Json context = stable_context(t, ctx);
  context["currentTime"] = ztdf::format_timestamp(ctx.now);
  context["requestId"] = ctx.request_id;
  return Json{{"subject", subject_from_token(t)},
              {"action", {{"operation", operation}}},
              {"resource", std::move(resource)},
              {"context", std::move(context)}};
}

InputKey::InputKey(const identity::VerifiedToken& t, std::string_view operation, const InputContext& ctx)
    : head_("{\"action\":" + Json{{"operation", operation}}.dump() +
            ",\"context\":" + stable_context(t, ctx).dump() + ",\"resource\":"),
      tail_(",\"subject\":" + subject_from_token(t).dump() + "}") {}

std::string InputKey::key_for(std::string_view resource_text) const {
  std::string text;
  text.reserve(head_.size() + resource_text.size() + tail_.size());
  text.append(head_).append(resource_text).append(tail_);
  return sha256_hex(text);
}

int canonical_level(std::string_view clearance) {
  auto c = ztdf::parse_classification(clearance);
  return c ? static_cast<int>(*c) : -1;
}

}  // namespace dive::access
