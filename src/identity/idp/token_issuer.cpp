#include "identity/idp/token_issuer.hpp"

#include <algorithm>

#include "common/encoding.hpp"
#include "common/random.hpp"
#include "identity/jws.hpp"

namespace dive::identity::idp {

std::string acr_for(const std::vector<std::string>& amr) {
  return std::find(amr.begin(), amr.end(), "otp") != amr.end() ? "1" : "0";
}

std::string at_hash(const std::string& access_token) {
  std::string h = sha256(access_token);
  return base64url_encode(std::string_view(h).substr(0, h.size() / 2));
}

namespace {
// What access and ID tokens both say about the login and the user.
void add_user_claims(Json& c, const User& user, const AuthContext& ctx) {
  c["auth_time"] = ctx.auth_time;
  c["acr"] = acr_for(ctx.amr);
  c["amr"] = ctx.amr;
  if (!ctx.sid.empty()) c["sid"] = ctx.sid;
  c.update(identity_claims(user));
}
}  // namespace

TokenIssuer::TokenIssuer(std::string issuer, int64_t access_ttl_s, Clock& clock, IdSource ids)
    : issuer_(std::move(issuer)), ttl_(access_ttl_s), clock_(clock), ids_(std::move(ids)) {
  if (!ids_) ids_ = [] { return secure_token(18); };
}

Json TokenIssuer::base_claims(const std::string& sub, const std::string& client_id, IssuedToken& t) const {
  t.iat_ms = clock_.unix_millis();
  t.iat = t.iat_ms / 1000;
  t.exp = t.iat + ttl_;
  t.jti = ids_();
  return Json{{"iss", issuer_}, {"sub", sub},         {"azp", client_id}, {"exp", t.exp},
              {"iat", t.iat},   {"iat_ms", t.iat_ms}, {"jti", t.jti}};
}

IssuedToken TokenIssuer::sign(Json claims, IssuedToken t, const SigningKey& key) const {
  t.token = sign_claims(claims, key);
  return t;
}

IssuedToken TokenIssuer::user_access_token(const User& user, const std::string& client_id,
                                           const AuthContext& ctx, const SigningKey& key) const {
  IssuedToken t;
  Json c = base_claims(user.id, client_id, t);
  c["aud"] = kAccessAudience;
  c["typ"] = "Bearer";
  c["scope"] = ctx.scope;
  add_user_claims(c, user, ctx);
  return sign(std::move(c), std::move(t), key);
}

IssuedToken TokenIssuer::service_access_token(const std::string& client_id, const std::string& scope,
                                              const SigningKey& key) const {
  IssuedToken t;
  std::string account = "service-account-" + client_id;
  Json c = base_claims(account, client_id, t);
  c["aud"] = kAccessAudience;
  c["typ"] = "Bearer";
  c["scope"] = scope;
  c["preferred_username"] = account;
  c["uniqueID"] = account;
  c["clientId"] = client_id;
  c["roles"] = Json::array({"service"});
  return sign(std::move(c), std::move(t), key);
}

IssuedToken TokenIssuer::id_token(const User& user, const std::string& client_id, const AuthContext& ctx,
                                  const std::string& access_token, const SigningKey& key) const {
  IssuedToken t;
  Json c = base_claims(user.id, client_id, t);
  c["aud"] = client_id;
  c["typ"] = "ID";
  if (!ctx.nonce.empty()) c["nonce"] = ctx.nonce;
  if (!access_token.empty()) c["at_hash"] = at_hash(access_token);
  add_user_claims(c, user, ctx);
  return sign(std::move(c), std::move(t), key);
}

}  // namespace dive::identity::idp
