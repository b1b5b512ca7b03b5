#pragma once
// Exceptions of the ZTDF library. Messages name the field (a JSON pointer such as
// "/policy/securityLabel/COI/1") or the operation and the reason; they never contain key material,
// plaintext, or the values of the object being parsed.
#include <stdexcept>
#include <string>

namespace dive::ztdf {

enum class ErrorCode {
  kFormat,     // JSON of the wrong shape: missing field, wrong type, unknown field, bad encoding, bad value
  kKey,        // a key that cannot be used: bad PEM/JWK, not RSA, too small, private parts in a public JWK
  kUnwrap,     // RSA-OAEP unwrap failed: wrong KAS key, or the wrapped key was replaced or corrupted
  kBinding,    // the policy binding (HMAC) does not match: the policy or the wrapped key was changed
  kIntegrity,  // the payload does not authenticate (GCM tag) or a hash does not match
  kCrypto,     // an OpenSSL operation failed for another reason (out of memory, RNG failure)
};

const char* to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

// Malformed or invalid input. path() is the JSON pointer of the offending member ("" for the root).
class FormatError : public Error {
 public:
  FormatError(std::string path, const std::string& reason);
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

class KeyError : public Error {
 public:
  explicit KeyError(const std::string& message) : Error(ErrorCode::kKey, message) {}
};
class UnwrapError : public Error {
 public:
  explicit UnwrapError(const std::string& message) : Error(ErrorCode::kUnwrap, message) {}
};
class BindingError : public Error {
 public:
  explicit BindingError(const std::string& message) : Error(ErrorCode::kBinding, message) {}
};
class IntegrityError : public Error {
 public:
  explicit IntegrityError(const std::string& message) : Error(ErrorCode::kIntegrity, message) {}
};
class CryptoError : public Error {
 public:
  explicit CryptoError(const std::string& message) : Error(ErrorCode::kCrypto, message) {}
};

}  // namespace dive::ztdf
