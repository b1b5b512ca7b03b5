#pragma once
// The api's /api/auth routes (issue 4 §3): who am I, logout, revoke, and the revocation status.
namespace dive::services {

class TokenAuth;
class ServiceContext;

//   GET  /api/auth/me                    the verified identity of the token
//   POST /api/auth/logout                revokes this token and every token of the user issued before now
//   POST /api/auth/revoke                revokes this token
//   GET  /api/auth/revocations/status    mirror size, age, last events (by hash), outbox (no authentication:
//                                        operators need it most when tokens are refused)
void add_auth_routes(ServiceContext& ctx, TokenAuth& auth);

}  // namespace dive::services
