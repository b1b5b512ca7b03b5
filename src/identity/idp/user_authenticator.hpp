#pragma once
// Password (+ optional one-time code) authentication of a realm user, with brute-force lockout. Every
// failure looks the same to the caller's client: unknown user, wrong password, wrong or replayed code,
// disabled or locked account all give `ok == false`, and cost one argon2id verification each, so neither
// the answer nor its timing tells whether the user exists. The reason is for the log only.
#include <optional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "identity/idp/idp_config.hpp"
#include "identity/idp/lockout.hpp"
#include "identity/idp/user.hpp"

namespace dive::metrics {
class Counter;
class Registry;
}  // namespace dive::metrics
namespace dive::store {
class PgPool;
}

namespace dive::identity::idp {

struct LoginResult {
  bool ok = false;
  User user;                     // when ok
  std::vector<std::string> amr;  // ["pwd"] or ["pwd","otp"]
  std::string reason;            // log-safe, never shown to the client
};

class UserAuthenticator {
 public:
  UserAuthenticator(store::PgPool& db, const IdpConfig& cfg, Clock& clock = Clock::system(),
                    metrics::Registry* registry = nullptr);
  // `otp` empty: password only. Throws store::PgUnavailable when the database is down.
  LoginResult login(const std::string& username, const std::string& password, const std::string& otp);

 private:
  LoginResult fail(const std::string& user_id, const std::string& reason);

  store::PgPool& db_;
  const IdpConfig& cfg_;
  Clock& clock_;
  Lockout lockout_;
  metrics::Counter* m_failures_ = nullptr;
  metrics::Counter* m_lockouts_ = nullptr;
};

}  // namespace dive::identity::idp
