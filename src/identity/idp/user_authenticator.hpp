#pragma once
// Password (+ optional one-time code) authentication of a realm user, with brute-force lockout. Every
// failure looks the same to the caller's client: unknown user, wrong password, wrong or replayed code,
// disabled or locked account all give `ok == false`, and cost one argon2id verification each, so neither
// the answer nor its timing tells whether the user exists. The reason is for the log only.
//
// Abuse limits (LoginThrottle) come first: a refused attempt is `throttled` (429 at the edge) and costs no
// hash. Attempts on one account are evaluated one at a time, each reading the lockout state afresh: no
// guess is evaluated once the account is locked (not even one that was queued when the lock began), and a
// correct password does not open a locked account.
//
// Thread-safe: one authenticator serves every request thread. The striped account mutexes serialise the
// evaluations of one account (they order reads and writes of its lockout state in the database, not
// members); the throttle and the lockout are thread-safe themselves.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.hpp"
#include "common/mutex.hpp"
#include "identity/idp/idp_config.hpp"
#include "identity/idp/lockout.hpp"
#include "identity/idp/login_throttle.hpp"
#include "identity/idp/user.hpp"

namespace dive::metrics {
class Counter;
class Registry;
}  // namespace dive::metrics
namespace dive::store {
class PgPool;
}

namespace dive::identity::idp {

// How a username that names no account appears in logs and the audit trail: "unknown user #" and the first
// 8 bytes of the SHA-256 of the name as looked up (trimmed, lower-case) in hex. Never the text: people type
// their password into the username field. Repeated attempts with the same text share the label.
std::string unknown_user_label(std::string_view username);

struct LoginResult {
  bool ok = false;
  User user;                     // when ok
  std::vector<std::string> amr;  // ["pwd"] or ["pwd","otp"]
  std::string reason;            // log-safe, never shown to the client
  bool throttled = false;        // refused by the abuse limits before any evaluation
  int retry_after_s = 0;         // when throttled
  std::string username;          // as attempted (normalised, at most 255 bytes): for the audit trail;
                                 // unknown_user_label() when it names no account
  bool locked_now = false;       // this failure locked the account
};

class UserAuthenticator {
 public:
  UserAuthenticator(store::PgPool& db, const IdpConfig& cfg, Clock& clock = Clock::system(),
                    metrics::Registry* registry = nullptr);
  // `otp` empty: password only. `source`: the client's address (for the per-source limit). Throws
  // store::PgUnavailable when the database is down.
  LoginResult login(const std::string& username, const std::string& password, const std::string& otp,
                    const std::string& source);

 private:
  LoginResult evaluate(const std::string& username, const std::string& password, const std::string& otp);
  LoginResult fail(const std::string& user_id, const std::string& reason);
  Mutex& account_mutex(const std::string& username);

  store::PgPool& db_;
  const IdpConfig& cfg_;
  Clock& clock_;
  Lockout lockout_;
  LoginThrottle throttle_;
  std::array<Mutex, 64> account_mu_;  // striped by username: one evaluation per account at a time
  metrics::Counter* m_failures_ = nullptr;
  metrics::Counter* m_throttled_[4] = {};  // by LoginThrottle::Limit
  metrics::Counter* m_lockouts_ = nullptr;
};

}  // namespace dive::identity::idp
