#pragma once
// The HTTP face of the realm: Keycloak's URL layout under /realms/<realm>/ mapped onto OidcProvider.
// Form bodies are parsed with limits (64 KiB, 64 parameters, a parameter sent twice is an error); token,
// introspection and userinfo answers carry Cache-Control: no-store. Nothing here logs a token, a
// password, a code or a secret.
#include <functional>
#include <memory>

#include "net/http.hpp"
#include "net/router.hpp"

namespace dive::identity::idp {
class OidcProvider;
class KeyRing;
}  // namespace dive::identity::idp

namespace dive::services::idp {

// `ready`: the realm is loaded (clients and signing keys); until then the endpoints answer 503
// temporarily_unavailable with Retry-After (discovery, static, always answers).
void add_oidc_routes(net::Router& router, std::shared_ptr<identity::idp::OidcProvider> provider,
                     std::shared_ptr<identity::idp::KeyRing> keys, std::function<bool()> ready);

}  // namespace dive::services::idp
