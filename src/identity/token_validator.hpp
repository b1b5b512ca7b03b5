#pragma once
// Bearer-token validation (docs/REVOCATION.md): signature against the issuer's JWKS, issuer allow-list,
// audience, exp/nbf/iat with skew, algorithm allow-list; validated tokens cached by SHA-256 of the whole
// token until exp.
//
//   ValidatorConfig cfg;
//   cfg.allowed_issuers = {"https://localhost:8443/realms/dive-v3-broker-usa"};
//   cfg.audience = "dive-api";
//   HttpJwksSource jwks(http, idp_breaker);
//   TokenValidator validator(cfg, jwks, Clock::system(), &metrics::Registry::global());
//
//   auto r = validator.validate(*req.bearer_token());
//   if (!r) {
//     spdlog::info("401 for request {}: {} ({})", req.request_id, to_string(r.reason()), r.message());
//     return Response::error(401, "Unauthorized", "Invalid or expired token", req.request_id);
//   }
//   const VerifiedToken& t = r.token();   // t.subject, t.claims["uniqueID"], t.jti, t.iat, ...
//
// Order of checks: size, cache, structure, alg (allow-list; none/HS* never), crit, kid, claims JSON,
// issuer (allow-list, exact match — no key is fetched for any other issuer), key by kid from that
// issuer's set only, key type/alg fit, signature, then exp/nbf/iat/sub/aud/claim types. Header members
// jku, x5u, jwk, x5c, x5t are ignored. Revocation is not checked here (the caller checks its mirror on
// the VerifiedToken's jti / uniqueID / iat).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/clock.hpp"
#include "common/mutex.hpp"
#include "identity/algorithm.hpp"
#include "identity/issuer_keys.hpp"
#include "identity/jwks_source.hpp"
#include "identity/token_cache.hpp"
#include "identity/verified_token.hpp"

namespace dive::metrics {
class Registry;
class Counter;
}  // namespace dive::metrics

namespace dive::identity {

struct ValidatorConfig {
  std::vector<std::string> allowed_issuers;  // exact string match (no normalisation, no trailing-'/' fixups)
  std::string audience;                      // required in aud (string or array), e.g. "dive-api", "dive-kas"
  std::chrono::seconds clock_skew{30};       // tolerance for exp, nbf and iat
  size_t max_token_bytes = 16 * 1024;        // longer tokens are rejected before any parsing
  // Algorithms accepted at all; each is further bound to its key type (RS256/PS256: RSA, ES256: P-256).
  std::vector<Alg> allowed_algs{Alg::RS256, Alg::PS256, Alg::ES256};
  // exp, iat, iss and sub are always required; list more here (e.g. "jti"). nbf is optional.
  std::vector<std::string> extra_required_claims;
  // When set, the "typ" claim must equal it: Keycloak-style access tokens carry "typ":"Bearer" and ID
  // tokens "ID", so "Bearer" keeps an ID token from being used as an access token. Empty: not checked.
  std::string required_token_type;
  Millis jwks_min_refresh_interval{10000};  // an unknown kid refreshes its issuer's JWKS at most this often
  Millis jwks_max_age{3600000};             // cached keys older than this are refreshed on use
  size_t cache_capacity = 100000;           // validated tokens kept
  // Longest accepted lifetime (exp - iat); 0: any. A user revocation is kept for a bounded time
  // (revocation.user_retention_s), so a token that lives longer than that could outlive the revocation
  // of its user: such tokens are refused (InvalidClaim) rather than silently un-revoked later.
  std::chrono::seconds max_lifetime{0};
};

// Why a token was refused. to_string() gives the metric label / log word.
enum class RejectReason {
  Malformed,            // not a compact JWS, bad base64url, header/claims not JSON objects, duplicate members
  TooLarge,             // longer than max_token_bytes
  AlgorithmNotAllowed,  // none, HS*, unknown, or not in allowed_algs
  UnsupportedCritical,  // a "crit" header (no extension is understood)
  MissingKid,
  UntrustedIssuer,       // iss not on the allow-list (no key is fetched for it)
  UnknownKid,            // the issuer's key set has no such kid (after the permitted refresh)
  KeyAlgorithmMismatch,  // alg does not fit the key's type or the JWK's alg
  BadSignature,
  Expired,           // now > exp + skew
  NotYetValid,       // nbf or iat later than now + skew
  MissingClaim,      // iss, exp, iat, sub or an extra required claim absent
  InvalidClaim,      // a claim of the wrong type (exp as a string, amr not strings, ...) or typ not
                     // required_token_type
  AudienceMismatch,  // aud absent or without the configured audience
  JwksUnavailable,   // the issuer's keys could not be fetched (breaker open, network, bad JWKS); the
                     // caller may answer 503 instead of 401 for this one
};
std::string_view to_string(RejectReason r);
inline constexpr size_t kRejectReasonCount = 15;

class ValidationResult {
 public:
  static ValidationResult accept(std::shared_ptr<const VerifiedToken> token, bool cached) {
    ValidationResult r;
    r.token_ = std::move(token);
    r.cached_ = cached;
    return r;
  }
  static ValidationResult reject(RejectReason reason, std::string message) {
    ValidationResult r;
    r.reason_ = reason;
    r.message_ = std::move(message);
    return r;
  }

  bool ok() const { return token_ != nullptr; }
  explicit operator bool() const { return ok(); }
  const VerifiedToken& token() const { return *token_; }  // only when ok()
  const std::shared_ptr<const VerifiedToken>& token_ptr() const { return token_; }
  bool cached() const { return cached_; }  // served from the validated-token cache

  RejectReason reason() const { return reason_; }  // only when !ok()
  // Log-safe explanation: never the token, never its signature; untrusted strings (kid, iss, alg) are
  // sanitised and truncated. For the log, not for the response body.
  const std::string& message() const { return message_; }

 private:
  std::shared_ptr<const VerifiedToken> token_;
  bool cached_ = false;
  RejectReason reason_ = RejectReason::Malformed;
  std::string message_;
};

// Thread-safe: one validator serves every request thread. issuers_mu_ guards the allow-list (shared for
// validations, exclusive to replace it); the key and token caches lock themselves; algs_ and cfg_ are
// fixed at construction.
class TokenValidator {
 public:
  // `source` and `clock` must outlive the validator. With a registry, counts
  // dive_v3_token_validations_total{result=valid|cached|rejected} and dive_v3_invalid_jwt_total{reason}.
  TokenValidator(ValidatorConfig cfg, JwksSource& source, Clock& clock = Clock::system(),
                 metrics::Registry* registry = nullptr);
  TokenValidator(const TokenValidator&) = delete;
  TokenValidator& operator=(const TokenValidator&) = delete;

  ValidationResult validate(std::string_view token);

  // Replaces the allow-list (e.g. a federation partner added or removed) and empties the token cache,
  // so no token of a removed issuer is served from it.
  void set_allowed_issuers(std::vector<std::string> issuers);
  std::vector<std::string> allowed_issuers() const;
  // Fetches the keys of every allowed issuer now (start-up warm-up); true when all have keys.
  bool prefetch();
  void clear_cache() { cache_.clear(); }
  size_t cache_size() const { return cache_.size(); }
  // The configuration as constructed (its allowed_issuers is the initial list; see allowed_issuers()).
  const ValidatorConfig& config() const { return cfg_; }

 private:
  ValidationResult check(std::string_view token, const std::string& hash, int64_t now);
  ValidationResult rejected(RejectReason reason, std::string message);
  bool issuer_allowed(const std::string& iss) const EXCLUDES(issuers_mu_);

  ValidatorConfig cfg_;
  Clock& clock_;
  IssuerKeys keys_;
  TokenCache cache_;
  mutable SharedMutex issuers_mu_;
  std::unordered_set<std::string> issuers_ GUARDED_BY(issuers_mu_);
  std::vector<std::string> issuer_list_ GUARDED_BY(issuers_mu_);
  std::vector<Alg> algs_;
  // metrics (optional; children resolved once so the hot path only increments)
  metrics::Counter* m_valid_ = nullptr;
  metrics::Counter* m_cached_ = nullptr;
  metrics::Counter* m_rejected_ = nullptr;
  metrics::Counter* m_reason_[kRejectReasonCount] = {};
};

}  // namespace dive::identity
