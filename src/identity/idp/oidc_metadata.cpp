#include "identity/idp/oidc_metadata.hpp"

#include "common/strings.hpp"
#include "identity/idp/idp_config.hpp"

namespace dive::identity::idp {

Json openid_configuration(const IdpConfig& cfg) {
  const std::string oidc = cfg.issuer + "/protocol/openid-connect";
  return Json{
      {"issuer", cfg.issuer},
      {"authorization_endpoint", oidc + "/auth"},
      {"token_endpoint", oidc + "/token"},
      {"introspection_endpoint", oidc + "/token/introspect"},
      {"userinfo_endpoint", oidc + "/userinfo"},
      {"end_session_endpoint", oidc + "/logout"},
      {"revocation_endpoint", oidc + "/revoke"},
      {"jwks_uri", oidc + "/certs"},
      {"grant_types_supported", {"authorization_code", "password", "client_credentials", "refresh_token"}},
      {"response_types_supported", {"code"}},
      {"response_modes_supported", {"query"}},
      {"subject_types_supported", {"public"}},
      {"id_token_signing_alg_values_supported", {"RS256"}},
      {"userinfo_signing_alg_values_supported", {"none"}},
      {"code_challenge_methods_supported", {"S256"}},
      {"token_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post", "none"}},
      {"introspection_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post"}},
      {"revocation_endpoint_auth_methods_supported", {"client_secret_basic", "client_secret_post", "none"}},
      {"scopes_supported", {"openid", "profile", "email"}},
      {"claims_supported",
       {"iss",
        "sub",
        "aud",
        "azp",
        "exp",
        "iat",
        "auth_time",
        "acr",
        "amr",
        "nonce",
        "preferred_username",
        "uniqueID",
        "clearance",
        "countryOfAffiliation",
        "acpCOI",
        "organizationType",
        "dutyOrg",
        "orgUnit",
        "roles",
        "email",
        "name",
        "given_name",
        "family_name"}},
      {"acr_values_supported", {"0", "1"}},
      {"claims_parameter_supported", false},
      {"request_parameter_supported", false},
      {"request_uri_parameter_supported", false},
      {"require_request_uri_registration", true},
      {"authorization_response_iss_parameter_supported", true},
      {"backchannel_logout_supported", false},
      {"frontchannel_logout_supported", false},
  };
}

Json realm_info(const IdpConfig& cfg, const VerifyKey& active) {
  // Keycloak's "public_key" is the base64 of the DER SubjectPublicKeyInfo: the PEM body without its
  // armour lines and line breaks.
  std::string body;
  for (const auto& line : split(active.to_pem(), '\n'))
    if (!line.empty() && line.rfind("-----", 0) != 0) body += line;
  return Json{{"realm", cfg.realm},
              {"public_key", body},
              {"token-service", cfg.issuer + "/protocol/openid-connect"},
              {"account-service", cfg.issuer + "/account"},
              {"tokens-not-before", 0}};
}

}  // namespace dive::identity::idp
