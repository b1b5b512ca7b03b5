#include "services/runtime/outcomes.hpp"

#include "audit/event.hpp"

namespace dive::services {

namespace {

using OutcomeCode = access::Outcome::Code;

// The status and the error name of a code.
struct HttpForm {
  int status;
  const char* error;
};

HttpForm http_form(OutcomeCode c) {
  switch (c) {
    case OutcomeCode::kOk:
      return {200, "OK"};
    case OutcomeCode::kInvalidInput:
      return {400, "Bad Request"};
    case OutcomeCode::kUnauthenticated:
      return {401, "Unauthorized"};
    case OutcomeCode::kDenied:
    case OutcomeCode::kIntegrity:
      return {403, "Forbidden"};
    case OutcomeCode::kNotFound:
      return {404, "Not Found"};
    case OutcomeCode::kUnavailable:
      return {503, "Service Unavailable"};
  }
  return {500, "Internal Server Error"};
}

}  // namespace

int http_status(const access::Outcome& o) {
  return http_form(o.code()).status;
}

Json error_body(const access::Outcome& o) {
  Json body{{"error", http_form(o.code()).error}, {"message", o.message()}};
  if (o.reason()) body["reason"] = *o.reason();
  if (o.evaluation_details()) body["evaluation_details"] = *o.evaluation_details();
  return body;
}

net::Response error_response(const access::Outcome& o, const std::string& request_id) {
  Json body = error_body(o);
  body["requestId"] = request_id;
  return net::Response::json(http_status(o), body);
}

const char* audit_outcome(const access::Outcome& o) {
  switch (o.code()) {
    case OutcomeCode::kOk:
      return audit::kAllow;
    case OutcomeCode::kDenied:
    case OutcomeCode::kIntegrity:
      return audit::kDeny;
    case OutcomeCode::kInvalidInput:
    case OutcomeCode::kUnauthenticated:
    case OutcomeCode::kNotFound:
    case OutcomeCode::kUnavailable:
      break;
  }
  return audit::kFailure;
}

}  // namespace dive::services
