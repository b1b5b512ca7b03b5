#pragma once
// Why an HTTP call obtained no response at all (src/net/https_client.cpp); a bad URL is one too.
#include <stdexcept>
#include <string>

namespace dive::net {

class TransportError : public std::runtime_error {  // no HTTP response was obtained
 public:
  enum class Kind { Connect, Tls, Timeout, Protocol, BadUrl };
  TransportError(Kind kind, const std::string& what);
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};
const char* to_string(TransportError::Kind kind);

}  // namespace dive::net
