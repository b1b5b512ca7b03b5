#include "identity/idp/totp_seed.hpp"

#include "common/random.hpp"
#include "identity/key_crypto.hpp"

namespace dive::identity::idp {

std::string new_totp_seed() {
  auto b = secure_random_bytes(20);
  return std::string(b.begin(), b.end());
}

std::string encrypt_totp_seed(const std::string& seed, const std::string& kek, const std::string& username) {
  return encrypt_private_key(seed, kek, "totp:" + username);
}

std::string decrypt_totp_seed(const std::string& stored, const std::string& kek,
                              const std::string& username) {
  return decrypt_private_key(stored, kek, "totp:" + username);
}

}  // namespace dive::identity::idp
