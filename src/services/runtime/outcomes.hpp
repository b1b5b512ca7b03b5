#pragma once
// How a service edge answers and records an outcome of the access layer (access/outcome.hpp), which itself
// knows no HTTP. Used by the api's document routes (services/api/resource_routes.cpp) and the kas's
// /request-key (services/kas/key_request.cpp):
//   ok               200 (the route may say otherwise: an upload is 201)
//   invalid input    400 Bad Request
//   unauthenticated  401 Unauthorized
//   denied           403 Forbidden    {error, message, reason, evaluation_details} (those the decision had)
//   integrity        403 Forbidden
//   not found        404 Not Found
//   unavailable      503 Service Unavailable
// An error body is {error, message[, reason, evaluation_details], requestId}.
#include <string>

#include "access/outcome.hpp"
#include "common/json.hpp"
#include "net/http.hpp"

namespace dive::services {

int http_status(const access::Outcome& o);
// A failure's body without the request id: {error, message[, reason, evaluation_details]}.
Json error_body(const access::Outcome& o);
// A failure's answer: its status and its error body with `request_id`.
net::Response error_response(const access::Outcome& o, const std::string& request_id);

// The audit record's outcome (docs/AUDIT.md): ok is audit::kAllow, denied or integrity audit::kDeny,
// anything else audit::kFailure.
const char* audit_outcome(const access::Outcome& o);

}  // namespace dive::services
