#pragma once
// Access and ID tokens of the realm (Keycloak's shapes, DIVE's claims), signed RS256 with the active key.
//
// Access token (typ "Bearer", 900 s by default): iss sub aud azp exp iat iat_ms jti auth_time acr amr sid
// scope, plus the identity claims of the user (user.hpp). aud is ["dive-api","dive-kas"]. acr is "0"
// with amr ["pwd"] after a password alone and "1" with ["pwd","otp"] when a one-time code was given.
// iat_ms (milliseconds) lets a user revocation made in the same second as a new login tell them apart
// (identity/revocation.hpp).
// ID token (typ "ID"): aud = the client, nonce when the authorization request had one, at_hash.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/json.hpp"
#include "identity/idp/user.hpp"
#include "identity/keys.hpp"

namespace dive::identity::idp {

inline const std::vector<std::string> kAccessAudience{"dive-api", "dive-kas"};

struct AuthContext {
  int64_t auth_time = 0;         // seconds since the epoch: when the user authenticated
  std::vector<std::string> amr;  // ["pwd"] or ["pwd","otp"]
  std::string sid;               // the login session (refresh-token family)
  std::string scope = "openid profile email";
  std::string nonce;  // ID token only; "" when none
};

// "1" when a second factor was used, else "0".
std::string acr_for(const std::vector<std::string>& amr);

struct IssuedToken {
  std::string token;
  std::string jti;
  int64_t iat = 0, iat_ms = 0, exp = 0;
};

class TokenIssuer {
 public:
  using IdSource = std::function<std::string()>;  // jti generator (random by default)

  TokenIssuer(std::string issuer, int64_t access_ttl_s, Clock& clock = Clock::system(), IdSource ids = {});

  IssuedToken user_access_token(const User& user, const std::string& client_id, const AuthContext& ctx,
                                const SigningKey& key) const;
  // A confidential client's own token (client_credentials): sub and preferred_username
  // "service-account-<client>", no user attributes.
  IssuedToken service_access_token(const std::string& client_id, const std::string& scope,
                                   const SigningKey& key) const;
  IssuedToken id_token(const User& user, const std::string& client_id, const AuthContext& ctx,
                       const std::string& access_token, const SigningKey& key) const;

  const std::string& issuer() const { return issuer_; }
  int64_t access_ttl_s() const { return ttl_; }

 private:
  Json base_claims(const std::string& sub, const std::string& client_id, IssuedToken& t) const;
  IssuedToken sign(Json claims, IssuedToken t, const SigningKey& key) const;

  std::string issuer_;
  int64_t ttl_;
  Clock& clock_;
  IdSource ids_;
};

// base64url of the left half of SHA-256(access token) (OIDC Core §3.1.3.6).
std::string at_hash(const std::string& access_token);

}  // namespace dive::identity::idp
