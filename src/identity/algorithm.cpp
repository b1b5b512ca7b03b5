#include "identity/algorithm.hpp"

namespace dive::identity {

std::string_view to_string(Alg alg) {
  switch (alg) {
    case Alg::RS256:
      return "RS256";
    case Alg::PS256:
      return "PS256";
    case Alg::ES256:
      return "ES256";
  }
  return "?";
}

std::string_view to_string(KeyType type) {
  return type == KeyType::Rsa ? "RSA" : "EC";
}

std::optional<Alg> parse_alg(std::string_view name) {
  if (name == "RS256") return Alg::RS256;
  if (name == "PS256") return Alg::PS256;
  if (name == "ES256") return Alg::ES256;
  return std::nullopt;
}

KeyType key_type_for(Alg alg) {
  return alg == Alg::ES256 ? KeyType::EcP256 : KeyType::Rsa;
}

}  // namespace dive::identity
