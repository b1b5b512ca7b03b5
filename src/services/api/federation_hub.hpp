#pragma once
// The hub's registry routes of the api (docs/FEDERATION.md): GET /api/federation/ca, POST .../register,
// POST .../heartbeat, GET .../bundle, POST and GET .../revocations (see services/api/federation.hpp).
#include <string>

namespace dive::services {

class ServiceContext;
class TokenAuth;

// Installs the routes on the hub's api (the caller checks the role).
void add_hub_registry(ServiceContext& ctx);

// GET /api/federation/spokes on the hub's api, for administrators (role admin; the console's operations
// view): every registered spoke with its status, last heartbeat and whether it is stale.
void add_hub_admin_routes(ServiceContext& ctx, TokenAuth& auth);

// This instance's CA certificate (PEM), "" when it cannot be read: what the hub hands to a joining spoke and
// what every instance puts first in its CA set.
std::string own_ca_pem(const ServiceContext& ctx);

}  // namespace dive::services
