#include "services/runtime/token_auth.hpp"

#include "identity/jwks_source.hpp"
#include "identity/revocation_limits.hpp"
#include "identity/token_validator.hpp"
#include "net/https_client.hpp"
#include "services/runtime/authenticator.hpp"
#include "services/runtime/issuer_allow_list.hpp"
#include "services/runtime/revocation_runtime.hpp"
#include "services/runtime/service_context.hpp"

namespace dive::services {

TokenAuth::TokenAuth(ServiceContext& ctx, std::string audience) {
  const ServiceSettings& s = ctx.settings();
  const std::string own = s.issuer;
  jwks_ = std::make_unique<identity::HttpJwksSource>(
      ctx.http(), [&ctx, own](const std::string& issuer) -> resilience::CircuitBreaker& {
        return ctx.breaker(issuer == own ? Breaker::Idp : Breaker::Federation);
      });
  identity::ValidatorConfig vc;
  vc.allowed_issuers = {own};
  vc.audience = std::move(audience);
  vc.required_token_type = "Bearer";   // an ID token is not an access token
  vc.extra_required_claims = {"jti"};  // every token must be revocable on its own
  // ... and must not outlive the revocation of its user (revocation_limits.hpp)
  vc.max_lifetime = identity::max_covered_lifetime(s.revocation.user_retention, vc.clock_skew);
  validator_ = std::make_unique<identity::TokenValidator>(vc, *jwks_, ctx.clock(), &ctx.registry());
  revocation_ = std::make_unique<RevocationRuntime>(ctx);
  issuers_ = std::make_unique<IssuerAllowList>(ctx.db(), *validator_, own, ctx.code(), s.policy.poll_interval,
                                               [&ctx] { ctx.refresh_trust(); });
  authenticator_ =
      std::make_unique<Authenticator>(*validator_, *revocation_->mirror(), &ctx.registry(), issuers_.get());
}

TokenAuth::~TokenAuth() = default;

net::Handler TokenAuth::protect(AuthedHandler handler) const {
  return [this, handler = std::move(handler)](net::Request& req) {
    auto a = authenticator_->authenticate(req);
    if (!a) return std::move(*a.failure);
    return handler(req, *a.token);
  };
}

}  // namespace dive::services
