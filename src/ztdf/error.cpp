#include "ztdf/error.hpp"

namespace dive::ztdf {

const char* to_string(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kFormat:
      return "format";
    case ErrorCode::kKey:
      return "key";
    case ErrorCode::kUnwrap:
      return "unwrap";
    case ErrorCode::kBinding:
      return "binding";
    case ErrorCode::kIntegrity:
      return "integrity";
    case ErrorCode::kCrypto:
      return "crypto";
  }
  return "unknown";
}

FormatError::FormatError(std::string path, const std::string& reason)
    : Error(ErrorCode::kFormat, "ZTDF " + (path.empty() ? std::string("object") : path) + ": " + reason),
      path_(std::move(path)) {}

}  // namespace dive::ztdf
