#pragma once
// Authorization codes and refresh tokens in PostgreSQL (tables idp_auth_codes, idp_refresh_tokens). Both
// are opaque random strings handed to the client once; only their SHA-256 is stored.
#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <utility>
#include <vector>

#include "identity/idp/refresh_policy.hpp"

namespace dive::identity::idp {

struct AuthCode {
  std::string client_id, user_id, redirect_uri, code_challenge, nonce, scope;
  int64_t auth_time = 0;
  std::vector<std::string> amr;
};

// Stores a new code valid for ttl_s; returns the code to hand to the client.
std::string store_auth_code(pqxx::connection& c, const AuthCode& code, int64_t ttl_s);

enum class CodeState { Ok, Unknown, Expired, Used };
struct ConsumedCode {
  CodeState state = CodeState::Unknown;
  AuthCode code;
  std::string hash;       // to attach the family issued for it
  std::string family_id;  // Used: the family issued at the first exchange ("" if none)
};
// Marks the code used (atomically: of two concurrent exchanges only one gets Ok).
ConsumedCode consume_auth_code(pqxx::connection& c, const std::string& code);
void attach_code_family(pqxx::connection& c, const std::string& code_hash, const std::string& family_id);

struct NewRefreshToken {
  std::string family_id;  // "" for a new family
  std::string user_id, client_id, scope;
  int64_t auth_time = 0;
  std::vector<std::string> amr;
  int64_t session_started_ms = 0, expires_ms = 0;
  std::string access_jti;
  int64_t access_exp = 0;
};
struct StoredRefresh {
  std::string token;  // give to the client
  std::string family_id;
};
StoredRefresh store_refresh_token(pqxx::connection& c, const NewRefreshToken& t);

std::optional<RefreshRecord> find_refresh_token(pqxx::connection& c, const std::string& token);
// Marks the token rotated and stores its successor, in one transaction. nullopt when it was rotated or
// revoked meanwhile (a concurrent use: the caller treats it as reuse).
std::optional<StoredRefresh> rotate_refresh_token(pqxx::connection& c, const std::string& token,
                                                  const NewRefreshToken& successor);

// Revokes every live token of a family / of a user. Returns (jti, exp) of the access tokens issued with
// them that have not expired yet, for the federation-wide revocation.
using AccessRefs = std::vector<std::pair<std::string, int64_t>>;
AccessRefs revoke_family(pqxx::connection& c, const std::string& family_id, const std::string& reason);
AccessRefs revoke_user_families(pqxx::connection& c, const std::string& user_id, const std::string& reason);

}  // namespace dive::identity::idp
