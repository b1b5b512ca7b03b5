#pragma once
// The document routes of the api (/api/resources...), mapped onto access::ResourceService.
namespace dive::services {

class ServiceContext;
class TokenAuth;

void add_resource_routes(ServiceContext& ctx, TokenAuth& auth);

}  // namespace dive::services
