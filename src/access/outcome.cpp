#include "access/outcome.hpp"

namespace dive::access {

const char* to_string(Dependency d) noexcept {
  switch (d) {
    case Dependency::kPdp:
      return "the policy decision point";
    case Dependency::kDatabase:
      return "the database";
    case Dependency::kKas:
      return "the key access service";
  }
  return "a dependency";
}

const char* to_string(Outcome::Code c) noexcept {
  switch (c) {
    case Outcome::Code::kOk:
      return "ok";
    case Outcome::Code::kInvalidInput:
      return "invalid input";
    case Outcome::Code::kUnauthenticated:
      return "unauthenticated";
    case Outcome::Code::kDenied:
      return "denied";
    case Outcome::Code::kIntegrity:
      return "integrity";
    case Outcome::Code::kNotFound:
      return "not found";
    case Outcome::Code::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

Outcome Outcome::invalid_input(std::string message) {
  return Outcome(Code::kInvalidInput, std::move(message));
}

Outcome Outcome::not_found(std::string message) {
  return Outcome(Code::kNotFound, std::move(message));
}

Outcome Outcome::integrity(std::string message) {
  return Outcome(Code::kIntegrity, std::move(message));
}

Outcome Outcome::denied(const Decision& d, std::string message) {
  Outcome o(Code::kDenied, std::move(message));
  o.reason_ = Json(d.reason);
  o.evaluation_details_ = d.evaluation_details;
  return o;
}

Outcome Outcome::refused(bool unauthenticated, std::string message, std::optional<Json> reason,
                         std::optional<Json> evaluation_details) {
  Outcome o(unauthenticated ? Code::kUnauthenticated : Code::kDenied, std::move(message));
  o.reason_ = std::move(reason);
  o.evaluation_details_ = std::move(evaluation_details);
  return o;
}

Outcome Outcome::unavailable(Dependency d, std::string message) {
  if (message.empty())
    message = std::string(access::to_string(d)) + " is unavailable; no access can be decided now";
  Outcome o(Code::kUnavailable, std::move(message));
  o.dependency_ = d;
  return o;
}

std::optional<Dependency> Outcome::dependency() const noexcept {
  if (code_ != Code::kUnavailable) return std::nullopt;
  return dependency_;
}

std::string Outcome::to_string() const {
  if (ok()) return "ok";
  return std::string(access::to_string(code_)) + ": " + message_;
}

}  // namespace dive::access
