#pragma once
// What the realm publishes about itself, in Keycloak's shapes: the OpenID Provider metadata
// (/.well-known/openid-configuration) and the realm info (/realms/{realm}, with the active public key).
#include "common/json.hpp"
#include "identity/keys.hpp"

namespace dive::identity::idp {

struct IdpConfig;

Json openid_configuration(const IdpConfig& cfg);
Json realm_info(const IdpConfig& cfg, const VerifyKey& active);

}  // namespace dive::identity::idp
