#pragma once
// What an operation of the access layer came to, as a value (modelled on LevelDB's leveldb::Status): ok, or
// one of the expected failures — invalid input, denied (with the decision), not found, a dependency
// unavailable — each with a message for the caller. Never an HTTP status: the service edges map outcomes
// to HTTP (src/services/runtime/outcomes.hpp, used by the api's document routes and the kas's
// /request-key). Unexpected failures (a bug, a database error that is not unavailability) stay exceptions.
#include <optional>
#include <string>

#include "access/decision.hpp"
#include "common/json.hpp"

namespace dive::access {

// A dependency without whose answer no access can be decided (fail closed).
enum class Dependency { kPdp, kDatabase, kKas };

// "the policy decision point", "the database", "the key access service"
const char* to_string(Dependency d) noexcept;

class Outcome {
 public:
  enum class Code {
    kOk,
    kInvalidInput,     // the request is malformed or asks for what cannot be (message: what is wrong)
    kUnauthenticated,  // a key access service did not accept the caller's credentials
    kDenied,           // refused by a decision: the policy's, or a key access service's
    kIntegrity,        // a stored object or a released key does not verify: refused without a decision
    kNotFound,         // no such document
    kUnavailable,      // a dependency could not answer (dependency()): nothing is decided, nothing shown
  };

  Outcome() = default;  // ok

  static Outcome invalid_input(std::string message);
  static Outcome not_found(std::string message);
  static Outcome integrity(std::string message);
  // Denied by the policy: the decision's reason and evaluation details go with it.
  static Outcome denied(const Decision& d, std::string message = "Access denied by policy");
  // Refused by a key access service as it said it: its message, and its reason and evaluation details
  // when it gave them (passed on as they are). `unauthenticated`: it did not accept the caller's token.
  static Outcome refused(bool unauthenticated, std::string message, std::optional<Json> reason,
                         std::optional<Json> evaluation_details);
  // `d` could not answer. The message, unless given: "<d> is unavailable; no access can be decided now".
  static Outcome unavailable(Dependency d, std::string message = {});

  bool ok() const noexcept { return code_ == Code::kOk; }
  Code code() const noexcept { return code_; }
  bool is_denied() const noexcept { return code_ == Code::kDenied; }
  bool is_not_found() const noexcept { return code_ == Code::kNotFound; }
  bool is_invalid_input() const noexcept { return code_ == Code::kInvalidInput; }
  bool is_unavailable() const noexcept { return code_ == Code::kUnavailable; }

  const std::string& message() const noexcept { return message_; }
  // The dependency that did not answer (kUnavailable only).
  std::optional<Dependency> dependency() const noexcept;
  // A refusal's decision (kDenied, kUnauthenticated): its reason and evaluation details, when it had them.
  const std::optional<Json>& reason() const noexcept { return reason_; }
  const std::optional<Json>& evaluation_details() const noexcept { return evaluation_details_; }

  // "ok", or the code's name and the message ("not found: no resource doc-1"): logs, test failures.
  std::string to_string() const;

 private:
  Outcome(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
  Dependency dependency_ = Dependency::kPdp;
  std::optional<Json> reason_, evaluation_details_;
};

// The name of a code: "ok", "invalid input", "unauthenticated", "denied", "integrity", "not found",
// "unavailable".
const char* to_string(Outcome::Code c) noexcept;

}  // namespace dive::access
