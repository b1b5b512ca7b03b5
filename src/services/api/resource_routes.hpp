#pragma once
// The document routes of the api (/api/resources...), mapped onto access::ResourceService; documents of
// another instance (doc-<CODE>-...) are answered by their origin, and /api/resources/federated-search
// merges every instance's answer (docs/FEDERATION.md).
namespace dive::services {

class FederationView;
class ServiceContext;
class TokenAuth;

void add_resource_routes(ServiceContext& ctx, TokenAuth& auth, FederationView& fed);

}  // namespace dive::services
