#include "services/idp/idp_revocation.hpp"

#include "identity/revocation_mirror.hpp"
#include "identity/revocation_store.hpp"
#include "services/runtime/revocation_runtime.hpp"

namespace dive::services::idp {

IdpRevocation make_idp_revocation(ServiceContext& ctx) {
  // The idp keeps a mirror too, so that introspection and userinfo answer "inactive" for revoked tokens.
  auto rt = std::make_shared<RevocationRuntime>(ctx, RevocationRuntimeOptions{.mirror = true});
  IdpRevocation r;
  r.revoker = &rt->store();
  r.check = rt->mirror();
  r.owner = rt;
  return r;
}

}  // namespace dive::services::idp
