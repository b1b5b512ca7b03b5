#pragma once
// The settings of one realm's identity provider, from the instance's instance.json and secrets.json
// (docs/IDP.md lists every key and its default).
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "identity/idp/login_throttle.hpp"
#include "identity/idp/password_hash.hpp"

namespace dive::identity::idp {

struct IdpConfig {
  std::string code;      // instance code, upper case ("USA")
  std::string realm;     // "dive-v3-broker-usa"
  std::string issuer;    // "https://localhost:8443/realms/dive-v3-broker-usa"
  std::string base_url;  // "https://localhost:8443" (the idp's own URL)
  std::string api_url;   // "https://localhost:4000" (dive-web redirects there)
  // The web consoles that sign users in here (client dive-web, redirect_uri <console>/auth/callback): this
  // instance's own and, on a spoke, its hub's (the hub's console signs in the users of every member).
  std::vector<std::string> console_urls;
  std::string instance_name;  // "United States" (dutyOrg of seeded users)
  std::string data_dir;       // where seed.json lives
  bool is_hub = false;

  int64_t access_token_ttl_s = 900;
  int64_t refresh_token_ttl_s = 1800;
  int64_t session_max_s = 36000;  // a refresh family never outlives its login by more than this
  int64_t code_ttl_s = 60;
  int64_t auth_request_ttl_s = 600;  // the login form's request handle
  int lockout_threshold = 5;
  int64_t lockout_minutes = 15;
  ThrottleConfig throttle;  // idp.throttle: abuse limits on password / one-time-code attempts
  int64_t key_poll_ms = 1000;
  Argon2Params argon2;

  std::string kek;  // 32 raw bytes (idp_key_encryption_key decoded)
  std::string test_user_password, admin_password;
  std::map<std::string, std::string> client_secrets;  // confidential client id -> secret

  // Throws std::runtime_error naming the missing or invalid setting.
  static IdpConfig from_instance(const Json& instance, const Json& secrets);

  // Seconds a retired signing key stays published: the longest token lifetime plus a margin.
  int64_t key_publish_window_s() const { return access_token_ttl_s + 60; }
};

// base64url (or standard base64) text of exactly 32 bytes -> the raw key. Throws std::runtime_error.
std::string decode_kek(const std::string& text);

}  // namespace dive::identity::idp
