#include "services/runtime/authenticator.hpp"

#include <spdlog/spdlog.h>

#include "identity/log_safe.hpp"
#include "identity/revocation.hpp"
#include "identity/revocation_mirror.hpp"
#include "identity/token_validator.hpp"
#include "metrics/registry.hpp"
#include "services/runtime/issuer_allow_list.hpp"

namespace dive::services {

namespace {
constexpr const char* kResultNames[] = {
    "ok", "missing", "invalid", "revoked", "keys_unavailable", "stale", "country_not_allowed"};
}

std::string revocation_subject(const identity::VerifiedToken& t) {
  auto uid = t.claim_string("uniqueID");
  return uid.empty() ? t.subject : uid;
}

int64_t issued_ms(const identity::VerifiedToken& t) {
  return identity::issued_ms_of(t.claims, t.iat);
}

Authenticator::Authenticator(identity::TokenValidator& validator, const identity::RevocationMirror& mirror,
                             metrics::Registry* registry, const IssuerAllowList* countries)
    : validator_(validator), mirror_(mirror), countries_(countries) {
  if (!registry) return;
  auto& fam =
      registry->counter("dive_v3_auth_requests_total", "Bearer-token authentications by result", {"result"});
  for (int r = 0; r < kResults; ++r) m_[r] = &fam.labels({kResultNames[r]});
}

void Authenticator::count(Result r) const {
  if (m_[r]) m_[r]->inc();
}

Authenticator::Outcome Authenticator::fail(Result r, int status, const std::string& message,
                                           const net::Request& req) const {
  count(r);
  Outcome o;
  o.failure = net::Response::error(status, status == 401 ? "Unauthorized" : "Service Unavailable", message,
                                   req.request_id);
  if (status == 401) o.failure->headers.set("WWW-Authenticate", "Bearer");
  if (status == 503) o.failure->headers.set("Retry-After", "5");
  return o;
}

Authenticator::Outcome Authenticator::authenticate(const net::Request& req) const {
  auto bearer = req.bearer_token_view();
  if (!bearer) return fail(Missing, 401, "Missing or invalid Authorization header", req);
  auto v = validator_.validate(*bearer);
  if (!v) {
    spdlog::info("request {} {} {}: token refused: {} ({})", req.request_id, req.method, req.path,
                 identity::to_string(v.reason()), v.message());
    if (v.reason() == identity::RejectReason::JwksUnavailable)
      return fail(KeysUnavailable, 503, "Token signing keys are unavailable; try again shortly", req);
    return fail(Invalid, 401, "Invalid or expired token", req);
  }
  const auto& t = v.token();
  if (countries_ && !countries_->country_allowed(t.issuer, t.claim_string("countryOfAffiliation"))) {
    spdlog::warn(
        "request {} {} {}: token {} of issuer {} claims countryOfAffiliation '{}', which that issuer "
        "may not assert",
        req.request_id, req.method, req.path, t.raw_hash.substr(0, 16), t.issuer,
        identity::log_safe(t.claim_string("countryOfAffiliation")));
    return fail(CountryNotAllowed, 401, "Invalid or expired token", req);
  }
  // Fail closed: a mirror that may have missed revocations cannot vouch for any token.
  if (mirror_.stale()) {
    spdlog::warn("request {} refused: revocation mirror not synchronised for {} ms", req.request_id,
                 mirror_.age().count());
    return fail(Stale, 503, "Revocation state is not current; try again shortly", req);
  }
  if (mirror_.is_revoked(t.jti, revocation_subject(t), issued_ms(t))) {
    spdlog::info("request {} {} {}: token {} of {} is revoked", req.request_id, req.method, req.path,
                 t.raw_hash.substr(0, 16), identity::log_safe(revocation_subject(t)));
    return fail(Revoked, 401, "Invalid or expired token", req);
  }
  count(Ok);
  return Outcome{v.token_ptr(), std::nullopt};
}

}  // namespace dive::services
