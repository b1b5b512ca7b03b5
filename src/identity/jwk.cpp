#include "identity/jwk.hpp"

#include <set>

#include "common/encoding.hpp"

namespace dive::identity {

namespace {

// Members that only a private (or symmetric) key has (RFC 7518 §6.2.2, §6.3.2, §6.4).
constexpr const char* kPrivateMembers[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

bool has_private_member(const Json& jwk) {
  for (const char* m : kPrivateMembers)
    if (jwk.contains(m)) return true;
  return false;
}

std::string b64_member(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string())
    throw JwkError(std::string("JWK member \"") + name + "\" is missing");
  auto bytes = base64url_decode(it->get_ref<const std::string&>());
  if (!bytes || bytes->empty()) throw JwkError(std::string("JWK member \"") + name + "\" is not base64url");
  return *bytes;
}

std::optional<std::string> string_member(const Json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end()) return std::nullopt;
  if (!it->is_string()) throw JwkError(std::string("JWK member \"") + name + "\" is not a string");
  return it->get<std::string>();
}

}  // namespace

Json to_jwk(const VerifyKey& key) {
  Json j = key.jwk_members();
  j["kid"] = key.kid();
  j["use"] = "sig";
  j["alg"] = std::string(to_string(key.default_alg()));
  return j;
}

Json to_jwks(std::span<const VerifyKey> keys) {
  Json arr = Json::array();
  for (const auto& k : keys) arr.push_back(to_jwk(k));
  return Json{{"keys", std::move(arr)}};
}

VerifyKey parse_jwk(const Json& jwk) {
  if (!jwk.is_object()) throw JwkError("JWK is not an object");
  if (has_private_member(jwk)) throw JwkError("JWK holds private key members");
  auto kty = string_member(jwk, "kty");
  if (!kty) throw JwkError("JWK without kty");
  if (auto use = string_member(jwk, "use"); use && *use != "sig")
    throw JwkError("JWK is not a signature key (use is not \"sig\")");
  if (auto it = jwk.find("key_ops"); it != jwk.end()) {
    bool verify = false;
    if (it->is_array())
      for (const auto& op : *it)
        verify = verify || (op.is_string() && op.get_ref<const std::string&>() == "verify");
    if (!verify) throw JwkError("JWK key_ops does not allow verify");
  }
  std::optional<Alg> alg;
  if (auto a = string_member(jwk, "alg")) {
    alg = parse_alg(*a);
    if (!alg) throw JwkError("JWK algorithm is not accepted");
  }
  std::string kid = string_member(jwk, "kid").value_or("");
  try {
    if (*kty == "RSA") {
      if (alg && key_type_for(*alg) != KeyType::Rsa) throw JwkError("JWK algorithm does not fit an RSA key");
      return VerifyKey::from_rsa(b64_member(jwk, "n"), b64_member(jwk, "e"), std::move(kid), alg);
    }
    if (*kty == "EC") {
      auto crv = string_member(jwk, "crv");
      if (!crv || *crv != "P-256") throw JwkError("EC JWK on a curve other than P-256");
      if (alg && key_type_for(*alg) != KeyType::EcP256)
        throw JwkError("JWK algorithm does not fit an EC key");
      return VerifyKey::from_ec_p256(b64_member(jwk, "x"), b64_member(jwk, "y"), std::move(kid), alg);
    }
  } catch (const KeyError& e) {
    throw JwkError(e.what());
  }
  throw JwkError("JWK kty is not supported (RSA and EC only)");
}

JwksParseResult parse_jwks(const Json& jwks) {
  if (!jwks.is_object()) throw JwkError("JWK Set is not an object");
  auto it = jwks.find("keys");
  if (it == jwks.end() || !it->is_array()) throw JwkError("JWK Set has no \"keys\" array");
  for (const auto& k : *it)
    if (k.is_object() && has_private_member(k)) throw JwkError("JWK Set holds private key members");
  JwksParseResult out;
  std::set<std::string> kids;
  size_t index = 0;
  for (const auto& k : *it) {
    try {
      VerifyKey key = parse_jwk(k);
      if (!kids.insert(key.kid()).second) {
        out.skipped.push_back("key " + std::to_string(index) + ": duplicate kid");
      } else {
        out.keys.push_back(std::move(key));
      }
    } catch (const JwkError& e) {
      out.skipped.push_back("key " + std::to_string(index) + ": " + e.what());
    }
    ++index;
  }
  return out;
}

}  // namespace dive::identity
