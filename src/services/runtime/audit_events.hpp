#pragma once
// Audit events of requests a service serves (docs/AUDIT.md): who (the token's uniqueID, else its subject,
// and issuer), from where (the client's address) and which request (its id), for the service to complete
// with the type, resource, outcome and reason and hand to ServiceContext::audit().
#include <string>
#include <string_view>

#include "audit/event.hpp"
#include "identity/verified_token.hpp"
#include "net/http.hpp"

namespace dive::services {

// An event of `type` for a request authenticated by `t`.
audit::Event request_event(const net::Request& req, const identity::VerifiedToken& t, std::string type);
// An event of `type` for a request whose caller is not (or not yet) authenticated.
audit::Event anonymous_event(const net::Request& req, std::string type);

// True when the token's `roles` claim (an array of strings) holds `role`.
bool has_role(const identity::VerifiedToken& t, std::string_view role);

}  // namespace dive::services
