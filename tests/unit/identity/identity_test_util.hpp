#pragma once
// Shared helpers of the identity unit tests: keys generated once per process, a fake JwksSource that
// records every fetch, and builders for hand-made (forged) tokens.
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/encoding.hpp"
#include "common/json.hpp"
#include "identity/jwk.hpp"
#include "identity/jwks_source.hpp"
#include "identity/keys.hpp"
#include "test_keys.hpp"

namespace dive::identity::testing {

inline const char* kIssuer = "https://localhost:8443/realms/dive-v3-broker-usa";
inline const char* kIssuerB = "https://localhost:9443/realms/dive-v3-broker-fra";

// Fixed keys (test_keys.hpp), read once per process.
inline const SigningKey& rsa_key() {
  static const SigningKey k = SigningKey::from_pem(kRsa1Pem, Alg::RS256, "rsa-1");
  return k;
}
inline const SigningKey& ps_key() {
  static const SigningKey k = SigningKey::from_pem(kRsaPsPem, Alg::PS256, "rsa-ps");
  return k;
}
inline const SigningKey& ec_key() {
  static const SigningKey k = SigningKey::from_pem(kEc1Pem, Alg::ES256, "ec-1");
  return k;
}
inline const SigningKey& attacker_key() {
  static const SigningKey k = SigningKey::from_pem(kAttackerPem, Alg::RS256, "attacker");
  return k;
}
inline const SigningKey& issuer_b_key() {
  static const SigningKey k = SigningKey::from_pem(kIssuerBPem, Alg::RS256, "fra-1");
  return k;
}
inline const SigningKey& attacker_ec_key() {
  static const SigningKey k = SigningKey::from_pem(kAttackerEcPem, Alg::ES256, "attacker-ec");
  return k;
}

class FakeJwksSource final : public JwksSource {
 public:
  Json fetch(const std::string& issuer) override {
    std::lock_guard lock(mu_);
    fetched_.push_back(issuer);
    if (failing_) throw JwksFetchError("simulated outage");
    auto it = sets_.find(issuer);
    if (it == sets_.end()) throw JwksFetchError("unknown issuer");
    return it->second;
  }
  void set(const std::string& issuer, Json jwks) {
    std::lock_guard lock(mu_);
    sets_[issuer] = std::move(jwks);
  }
  void set_failing(bool f) {
    std::lock_guard lock(mu_);
    failing_ = f;
  }
  std::vector<std::string> fetched() const {
    std::lock_guard lock(mu_);
    return fetched_;
  }
  size_t count(const std::string& issuer) const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& f : fetched_) n += f == issuer;
    return n;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, Json> sets_;
  std::vector<std::string> fetched_;
  bool failing_ = false;
};

inline std::string b64(std::string_view s) {
  return base64url_encode(s);
}

// header.payload.signature from raw JSON texts, signed (or not) by the caller.
inline std::string unsigned_part(const std::string& header_json, const std::string& payload_json) {
  return b64(header_json) + "." + b64(payload_json);
}
// A token with an arbitrary header, signed by `key` over exactly that header (the alg in the header is
// whatever the caller wrote; the signature is made with key.alg()).
inline std::string forge(const Json& header, const Json& claims, const SigningKey& key) {
  std::string input = unsigned_part(header.dump(), claims.dump());
  return input + "." + b64(key.sign(input));
}

// The parts of a compact token.
struct Parts {
  std::string header, payload, signature;
};
inline Parts split(const std::string& token) {
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  return {token.substr(0, d1), token.substr(d1 + 1, d2 - d1 - 1), token.substr(d2 + 1)};
}

}  // namespace dive::identity::testing
