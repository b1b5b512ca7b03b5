#pragma once
// Where the idp's federation-wide revocation comes from: the Revoker its logout, revocation and
// refresh-reuse paths call, and the RevocationCheck its introspection and userinfo consult.
#include <memory>

namespace dive::identity {
class Revoker;
class RevocationCheck;
}  // namespace dive::identity

namespace dive::services {
class ServiceContext;
}

namespace dive::services::idp {

struct IdpRevocation {
  identity::Revoker* revoker = nullptr;
  const identity::RevocationCheck* check = nullptr;
  std::shared_ptr<void> owner;  // keeps both alive (ServiceContext::keep)
};

// Needs the context connected with database and blacklist_redis.
IdpRevocation make_idp_revocation(ServiceContext& ctx);

}  // namespace dive::services::idp
