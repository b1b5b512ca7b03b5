#include "identity/idp/user_authenticator.hpp"

#include <spdlog/spdlog.h>

#include "common/encoding.hpp"
#include "common/mutex.hpp"
#include "common/strings.hpp"
#include "identity/idp/password_hash.hpp"
#include "identity/idp/totp.hpp"
#include "identity/idp/totp_seed.hpp"
#include "identity/idp/user_store.hpp"
#include "identity/log_safe.hpp"
#include "metrics/registry.hpp"
#include "store/pg_pool.hpp"

namespace dive::identity::idp {

UserAuthenticator::UserAuthenticator(store::PgPool& db, const IdpConfig& cfg, Clock& clock,
                                     metrics::Registry* registry)
    : db_(db),
      cfg_(cfg),
      clock_(clock),
      lockout_(LockoutPolicy{cfg.lockout_threshold, std::chrono::minutes(cfg.lockout_minutes)}, clock),
      throttle_(cfg.throttle, clock) {
  if (registry) {
    auto& throttled =
        registry->counter("dive_v3_idp_login_throttled_total",
                          "Login attempts refused (429) by the abuse limits, by limit", {"limit"});
    for (auto l : {LoginThrottle::Limit::Busy, LoginThrottle::Limit::Account, LoginThrottle::Limit::Source})
      m_throttled_[static_cast<int>(l)] = &throttled.labels({std::string(to_string(l))});
    m_failures_ = &registry->counter("dive_v3_idp_login_failures_total", "Failed user logins (any reason)")
                       .unlabelled();
    m_lockouts_ =
        &registry->counter("dive_v3_idp_lockouts_total", "Accounts locked after repeated failed logins")
             .unlabelled();
  }
}

std::string unknown_user_label(std::string_view username) {
  return "unknown user #" + hex_encode(sha256(username)).substr(0, 16);
}

LoginResult UserAuthenticator::fail(const std::string& user_id, const std::string& reason) {
  if (m_failures_) m_failures_->inc();
  LoginResult r;
  r.reason = reason;
  if (user_id.empty()) return r;
  bool locked_now = db_.with([&](pqxx::connection& c) { return record_login_failure(c, user_id, lockout_); });
  r.locked_now = locked_now;
  if (locked_now) {
    if (m_lockouts_) m_lockouts_->inc();
    r.reason += "; account now locked for " + std::to_string(cfg_.lockout_minutes) + " min";
  }
  return r;
}

Mutex& UserAuthenticator::account_mutex(const std::string& username) {
  return account_mu_[std::hash<std::string>{}(username) % account_mu_.size()];
}

LoginResult UserAuthenticator::login(const std::string& raw_username, const std::string& password,
                                     const std::string& otp, const std::string& source) {
  const std::string username = to_lower(trim(raw_username));
  auto admission = throttle_.admit(username.substr(0, 255), source);
  if (!admission.ticket) {
    if (auto* c = m_throttled_[static_cast<int>(admission.limit)]) c->inc();
    LoginResult r;
    r.throttled = true;
    r.retry_after_s = admission.retry_after_s;
    r.reason =
        "throttled (" + std::string(to_string(admission.limit)) + " limit) for " + log_safe(username, 64);
    r.username = username.substr(0, 255);
    return r;
  }
  LoginResult r;
  {
    MutexLock one_at_a_time(account_mutex(username));
    r = evaluate(username, password, otp);
  }
  if (!r.ok) admission.ticket->failed();
  if (r.username.empty()) r.username = username.substr(0, 255);
  return r;
}

LoginResult UserAuthenticator::evaluate(const std::string& username, const std::string& password,
                                        const std::string& otp) {
  std::optional<User> user;
  if (!username.empty() && username.size() <= 255)
    user = db_.with([&](pqxx::connection& c) { return find_user_by_username(c, username); });
  if (!user) {
    dummy_verify(password, cfg_.argon2);
    LoginResult r = fail("", unknown_user_label(username));
    r.username = r.reason;
    return r;
  }
  // The user was read under this account's lock: its lockout state is current. A locked account's guess is
  // not evaluated (a hash of a fixed value costs the same time, so the answer's timing says nothing).
  if (lockout_.is_locked(user->lockout)) {
    dummy_verify(password, cfg_.argon2);
    if (m_failures_) m_failures_->inc();
    LoginResult r;
    r.reason = "account " + user->username + " is locked";
    return r;
  }
  const bool password_ok = verify_password(password, user->password_hash);
  if (!user->enabled) return fail(user->id, "account " + user->username + " is disabled");
  if (!password_ok) return fail(user->id, "wrong password for " + user->username);
  std::vector<std::string> amr{"pwd"};
  if (!otp.empty()) {
    if (!user->has_totp())
      return fail(user->id, "one-time code given but " + user->username + " has no TOTP");
    std::string seed = decrypt_totp_seed(*user->totp_secret_enc, cfg_.kek, user->username);
    auto step = verify_totp(seed, otp, clock_.unix_seconds(), user->totp_last_step);
    if (!step) return fail(user->id, "wrong or reused one-time code for " + user->username);
    bool fresh = db_.with([&](pqxx::connection& c) { return accept_totp_step(c, user->id, *step); });
    if (!fresh) return fail(user->id, "replayed one-time code for " + user->username);
    amr.push_back("otp");
  }
  std::optional<std::string> rehash;
  if (needs_rehash(user->password_hash, cfg_.argon2)) rehash = hash_password(password, cfg_.argon2);
  if (rehash || user->lockout.failures != 0 || user->lockout.locked_until_ms)
    db_.with([&](pqxx::connection& c) {
      record_login_success(c, user->id, rehash);
      return 0;
    });
  LoginResult r;
  r.ok = true;
  r.user = std::move(*user);
  r.amr = std::move(amr);
  return r;
}

}  // namespace dive::identity::idp
