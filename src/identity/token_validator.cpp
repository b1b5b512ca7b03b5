#include "identity/token_validator.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "common/encoding.hpp"
#include "common/mutex.hpp"
#include "identity/jws.hpp"
#include "identity/log_safe.hpp"
#include "metrics/registry.hpp"

namespace dive::identity {

namespace {

constexpr int kMaxClaimsDepth = 16;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

int64_t sat_add(int64_t a, int64_t b) {
  if (b > 0 && a > kMax - b) return kMax;
  if (b < 0 && a < std::numeric_limits<int64_t>::min() - b) return std::numeric_limits<int64_t>::min();
  return a + b;
}

// A NumericDate (RFC 7519 §2): integer or fractional seconds; fractions are dropped.
std::optional<int64_t> numeric_date(const Json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<uint64_t>();
    return u > static_cast<uint64_t>(kMax) ? kMax : static_cast<int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (!std::isfinite(d)) return std::nullopt;
    if (d >= 9.2e18) return kMax;
    if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(std::floor(d));
  }
  return std::nullopt;
}

bool is_string_array(const Json& v) {
  return v.is_array() && std::all_of(v.begin(), v.end(), [](const Json& e) { return e.is_string(); });
}

constexpr RejectReason kAllReasons[] = {
    RejectReason::Malformed,           RejectReason::TooLarge,
    RejectReason::AlgorithmNotAllowed, RejectReason::UnsupportedCritical,
    RejectReason::MissingKid,          RejectReason::UntrustedIssuer,
    RejectReason::UnknownKid,          RejectReason::KeyAlgorithmMismatch,
    RejectReason::BadSignature,        RejectReason::Expired,
    RejectReason::NotYetValid,         RejectReason::MissingClaim,
    RejectReason::InvalidClaim,        RejectReason::AudienceMismatch,
    RejectReason::JwksUnavailable,
};
static_assert(std::size(kAllReasons) == kRejectReasonCount);

// Why a step refused the token (the validator counts it and turns it into a ValidationResult).
struct Refusal {
  RejectReason reason;
  std::string message;
};
using R = RejectReason;

// Header: alg from the allow-list only, no critical extensions, a kid. Key-bearing members (jku, x5u, jwk,
// x5c, x5t) are deliberately never read.
std::optional<Refusal> check_header(const Json& header, const std::vector<Alg>& allowed, Alg& alg,
                                    std::string& kid) {
  auto alg_it = header.find("alg");
  if (alg_it == header.end() || !alg_it->is_string())
    return Refusal{R::AlgorithmNotAllowed, "header without a string alg"};
  const auto& alg_name = alg_it->get_ref<const std::string&>();
  auto parsed = parse_alg(alg_name);
  if (!parsed || std::find(allowed.begin(), allowed.end(), *parsed) == allowed.end())
    return Refusal{R::AlgorithmNotAllowed, "alg \"" + log_safe(alg_name, 32) + "\" is not allowed"};
  if (header.contains("crit"))
    return Refusal{R::UnsupportedCritical, "header has crit (no extension is supported)"};
  auto kid_it = header.find("kid");
  if (kid_it == header.end() || !kid_it->is_string() || kid_it->get_ref<const std::string&>().empty())
    return Refusal{R::MissingKid, "header without a kid"};
  alg = *parsed;
  kid = kid_it->get_ref<const std::string&>();
  return std::nullopt;
}

std::optional<Refusal> parse_claims(std::string_view payload, Json& claims) {
  try {
    claims = parse_jose_json(payload, kMaxClaimsDepth);
  } catch (const std::invalid_argument& e) {
    return Refusal{R::Malformed, std::string("claims: ") + e.what()};
  }
  if (!claims.is_object()) return Refusal{R::Malformed, "claims are not a JSON object"};
  return std::nullopt;
}

// The issuer's key named by kid: known, fit for the alg, and the signature verifies with it.
std::optional<Refusal> check_signature(const IssuerKeys::Lookup& found, Alg alg, const std::string& kid,
                                       const CompactJws& jws) {
  if (found.status == IssuerKeys::Status::UnknownKid)
    return Refusal{R::UnknownKid, "kid \"" + log_safe(kid, 64) + "\": " + found.detail};
  if (found.status == IssuerKeys::Status::Unavailable)
    return Refusal{R::JwksUnavailable, "kid \"" + log_safe(kid, 64) + "\": " + found.detail};
  const VerifyKey& key = *found.key;
  if (!key.allows(alg))
    return Refusal{R::KeyAlgorithmMismatch, "alg " + std::string(to_string(alg)) + " does not fit key \"" +
                                                log_safe(kid, 64) + "\" (" +
                                                std::string(to_string(key.type())) + ", " +
                                                std::string(to_string(key.default_alg())) + ")"};
  if (!key.verify(alg, jws.signing_input, jws.signature))
    return Refusal{R::BadSignature, "signature does not verify with key \"" + log_safe(kid, 64) + "\""};
  return std::nullopt;
}

// exp, iat (required), nbf, auth_time (optional) as NumericDates, within the clock skew of `now`, and a
// lifetime no longer than revocation covers.
std::optional<Refusal> check_times(const Json& claims, int64_t now, const ValidatorConfig& cfg,
                                   VerifiedToken& t) {
  auto date = [&](const char* name, bool required, int64_t& out) -> std::optional<Refusal> {
    auto it = claims.find(name);
    if (it == claims.end()) {
      if (required) return Refusal{R::MissingClaim, std::string("no ") + name + " claim"};
      return std::nullopt;
    }
    auto v = numeric_date(*it);
    if (!v) return Refusal{R::InvalidClaim, std::string(name) + " is not a NumericDate"};
    out = *v;
    return std::nullopt;
  };
  if (auto r = date("exp", true, t.exp)) return r;
  if (auto r = date("iat", true, t.iat)) return r;
  if (auto r = date("nbf", false, t.nbf)) return r;
  if (auto r = date("auth_time", false, t.auth_time)) return r;
  const auto skew = static_cast<int64_t>(cfg.clock_skew.count());
  if (now > sat_add(t.exp, skew))
    return Refusal{R::Expired, "expired " + std::to_string(now - t.exp) + " s ago"};
  if (claims.contains("nbf") && t.nbf > sat_add(now, skew))
    return Refusal{R::NotYetValid, "nbf is " + std::to_string(t.nbf - now) + " s in the future"};
  if (t.iat > sat_add(now, skew))
    return Refusal{R::NotYetValid, "iat is " + std::to_string(t.iat - now) + " s in the future"};
  if (const auto max = static_cast<int64_t>(cfg.max_lifetime.count());
      max > 0 && (t.exp < t.iat || t.exp > sat_add(t.iat, max)))
    return Refusal{R::InvalidClaim, "lifetime (exp - iat) is not within 0.." + std::to_string(max) +
                                        " s, the longest that revocation covers"};
  return std::nullopt;
}

// sub, aud (this validator's audience among them), the configured required claims and token type, and the
// types of jti, azp, acr and amr.
std::optional<Refusal> check_claims(const Json& claims, const ValidatorConfig& cfg, VerifiedToken& t) {
  auto sub_it = claims.find("sub");
  if (sub_it == claims.end()) return Refusal{R::MissingClaim, "no sub claim"};
  if (!sub_it->is_string() || sub_it->get_ref<const std::string&>().empty())
    return Refusal{R::InvalidClaim, "sub is not a non-empty string"};

  auto aud_it = claims.find("aud");
  if (aud_it == claims.end()) return Refusal{R::AudienceMismatch, "no aud claim"};
  if (aud_it->is_string()) {
    t.audience.push_back(aud_it->get<std::string>());
  } else if (is_string_array(*aud_it)) {
    t.audience = aud_it->get<std::vector<std::string>>();
  } else {
    return Refusal{R::InvalidClaim, "aud is neither a string nor an array of strings"};
  }
  if (std::find(t.audience.begin(), t.audience.end(), cfg.audience) == t.audience.end())
    return Refusal{R::AudienceMismatch, "aud does not contain " + cfg.audience};

  for (const auto& name : cfg.extra_required_claims)
    if (!claims.contains(name)) return Refusal{R::MissingClaim, "no " + log_safe(name) + " claim"};
  if (!cfg.required_token_type.empty()) {
    auto it = claims.find("typ");
    if (it == claims.end() || !it->is_string() ||
        it->get_ref<const std::string&>() != cfg.required_token_type)
      return Refusal{R::InvalidClaim, "typ claim is not " + cfg.required_token_type};
  }
  for (const char* name : {"jti", "azp", "acr"}) {
    auto it = claims.find(name);
    if (it != claims.end() && !it->is_string())
      return Refusal{R::InvalidClaim, std::string(name) + " is not a string"};
  }
  if (auto it = claims.find("amr"); it != claims.end()) {
    if (!is_string_array(*it)) return Refusal{R::InvalidClaim, "amr is not an array of strings"};
    t.amr = it->get<std::vector<std::string>>();
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(RejectReason r) {
  switch (r) {
    case RejectReason::Malformed:
      return "malformed";
    case RejectReason::TooLarge:
      return "too_large";
    case RejectReason::AlgorithmNotAllowed:
      return "alg_not_allowed";
    case RejectReason::UnsupportedCritical:
      return "unsupported_crit";
    case RejectReason::MissingKid:
      return "missing_kid";
    case RejectReason::UntrustedIssuer:
      return "untrusted_issuer";
    case RejectReason::UnknownKid:
      return "unknown_kid";
    case RejectReason::KeyAlgorithmMismatch:
      return "key_alg_mismatch";
    case RejectReason::BadSignature:
      return "bad_signature";
    case RejectReason::Expired:
      return "expired";
    case RejectReason::NotYetValid:
      return "not_yet_valid";
    case RejectReason::MissingClaim:
      return "missing_claim";
    case RejectReason::InvalidClaim:
      return "invalid_claim";
    case RejectReason::AudienceMismatch:
      return "audience_mismatch";
    case RejectReason::JwksUnavailable:
      return "jwks_unavailable";
  }
  return "unknown";
}

TokenValidator::TokenValidator(ValidatorConfig cfg, JwksSource& source, Clock& clock,
                               metrics::Registry* registry)
    : cfg_(std::move(cfg)),
      clock_(clock),
      keys_(source, clock, IssuerKeysOptions{cfg_.jwks_min_refresh_interval, cfg_.jwks_max_age}),
      cache_(cfg_.cache_capacity),
      issuers_(cfg_.allowed_issuers.begin(), cfg_.allowed_issuers.end()),
      issuer_list_(cfg_.allowed_issuers),
      algs_(cfg_.allowed_algs) {
  if (cfg_.audience.empty()) throw std::invalid_argument("ValidatorConfig.audience must be set");
  if (cfg_.clock_skew.count() < 0)
    throw std::invalid_argument("ValidatorConfig.clock_skew must not be negative");
  if (registry) {
    auto& v = registry->counter("dive_v3_token_validations_total",
                                "Bearer token validations by result (valid, cached, rejected)", {"result"});
    m_valid_ = &v.labels({"valid"});
    m_cached_ = &v.labels({"cached"});
    m_rejected_ = &v.labels({"rejected"});
    auto& inv =
        registry->counter("dive_v3_invalid_jwt_total", "Rejected bearer tokens by reason", {"reason"});
    for (auto r : kAllReasons) m_reason_[static_cast<size_t>(r)] = &inv.labels({std::string(to_string(r))});
  }
}

void TokenValidator::set_allowed_issuers(std::vector<std::string> issuers) {
  std::unordered_set<std::string> next(issuers.begin(), issuers.end());
  WriterLock lock(issuers_mu_);
  for (const auto& old : issuers_)
    if (!next.count(old)) keys_.forget(old);
  issuers_ = std::move(next);
  issuer_list_ = std::move(issuers);
  cache_.clear();  // under the lock: no validation in flight can re-insert a token of a removed issuer
}

std::vector<std::string> TokenValidator::allowed_issuers() const {
  ReaderLock lock(issuers_mu_);
  return issuer_list_;
}

bool TokenValidator::issuer_allowed(const std::string& iss) const {
  ReaderLock lock(issuers_mu_);
  return issuers_.count(iss) > 0;
}

bool TokenValidator::prefetch() {
  bool all = true;
  for (const auto& iss : allowed_issuers()) all = keys_.refresh(iss) && all;
  return all;
}

ValidationResult TokenValidator::rejected(RejectReason reason, std::string message) {
  if (m_rejected_) {
    m_rejected_->inc();
    m_reason_[static_cast<size_t>(reason)]->inc();
  }
  return ValidationResult::reject(reason, std::move(message));
}

ValidationResult TokenValidator::validate(std::string_view token) {
  if (token.empty()) return rejected(RejectReason::Malformed, "empty token");
  if (token.size() > cfg_.max_token_bytes)
    return rejected(RejectReason::TooLarge, "token of " + std::to_string(token.size()) + " bytes exceeds " +
                                                std::to_string(cfg_.max_token_bytes));
  std::string hash = sha256(token);  // of the whole token
  int64_t now = clock_.unix_seconds();
  auto hit = cache_.find(hash, now);
  if (hit.token) {
    if (m_cached_) m_cached_->inc();
    return ValidationResult::accept(std::move(hit.token), true);
  }
  if (hit.expired) return rejected(RejectReason::Expired, "token expired");
  return check(token, hash, now);
}

ValidationResult TokenValidator::check(std::string_view token, const std::string& hash, int64_t now) {
  using R = RejectReason;
  CompactJws jws;
  try {
    jws = parse_compact(token);
  } catch (const JwsFormatError& e) {
    return rejected(R::Malformed, e.what());
  }
  Alg alg{};
  std::string kid;
  if (auto r = check_header(jws.header, algs_, alg, kid)) return rejected(r->reason, std::move(r->message));
  Json claims;
  if (auto r = parse_claims(jws.payload, claims)) return rejected(r->reason, std::move(r->message));

  // Issuer before any key is looked up: keys are fetched for allow-listed issuers only.
  auto iss_it = claims.find("iss");
  if (iss_it == claims.end()) return rejected(R::MissingClaim, "no iss claim");
  if (!iss_it->is_string()) return rejected(R::InvalidClaim, "iss is not a string");
  const auto& iss = iss_it->get_ref<const std::string&>();
  if (!issuer_allowed(iss))
    return rejected(R::UntrustedIssuer, "issuer \"" + log_safe(iss) + "\" is not trusted");
  if (auto r = check_signature(keys_.find(iss, kid), alg, kid, jws))
    return rejected(r->reason, std::move(r->message));

  // Claims, now that they are authentic.
  auto t = std::make_shared<VerifiedToken>();
  if (auto r = check_times(claims, now, cfg_, *t)) return rejected(r->reason, std::move(r->message));
  if (auto r = check_claims(claims, cfg_, *t)) return rejected(r->reason, std::move(r->message));
  t->raw_hash = hex_encode(hash);
  t->issuer = iss;
  t->subject = claims["sub"].get<std::string>();
  t->kid = kid;
  t->alg = std::string(to_string(alg));
  t->jti = claims.value("jti", std::string());
  t->azp = claims.value("azp", std::string());
  t->acr = claims.value("acr", std::string());
  t->claims = std::move(claims);

  std::shared_ptr<const VerifiedToken> verified = std::move(t);
  {
    // Under the issuers lock, so that set_allowed_issuers() cannot clear the cache between the issuer
    // check above and this insert and leave a token of a removed issuer behind.
    ReaderLock lock(issuers_mu_);
    if (issuers_.count(verified->issuer))
      cache_.insert(hash, verified, sat_add(verified->exp, static_cast<int64_t>(cfg_.clock_skew.count())),
                    now);
  }
  if (m_valid_) m_valid_->inc();
  return ValidationResult::accept(std::move(verified), false);
}

}  // namespace dive::identity
