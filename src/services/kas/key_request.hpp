#pragma once
// POST /request-key of the kas: authentication (TokenAuth), the key release decision (access/key_release),
// the audit record of every request and the kas metrics.
namespace dive::services {

class ServiceContext;
class TokenAuth;

void add_key_request_route(ServiceContext& ctx, TokenAuth& auth);

}  // namespace dive::services
