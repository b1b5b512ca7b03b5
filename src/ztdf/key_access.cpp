#include "ztdf/key_access.hpp"

#include <openssl/crypto.h>

#include "common/encoding.hpp"
#include "ztdf/binding.hpp"
#include "ztdf/error.hpp"
#include "ztdf/primitives.hpp"

namespace dive::ztdf {

namespace {

DataKey unwrap_raw(std::string_view wrapped, const PrivateKey& key, const char* what) {
  auto raw = detail::rsa_oaep_unwrap(key, wrapped);
  if (!raw || raw->size() != DataKey::kSize) {
    if (raw) OPENSSL_cleanse(raw->data(), raw->size());
    throw UnwrapError(std::string(what) + " does not unwrap with this private key");
  }
  DataKey k = DataKey::from_bytes(*raw);
  OPENSSL_cleanse(raw->data(), raw->size());
  return k;
}

}  // namespace

KeyAccessObject wrap_key(const DataKey& key, const Policy& policy, const KasPublicKey& kas) {
  KeyAccessObject kao;
  kao.url = kas.url;
  kao.kid = kas.kid;
  kao.wrapped_key = detail::rsa_oaep_wrap(kas.key, key.bytes());
  kao.policy_binding = policy_binding(policy, key);
  return kao;
}

DataKey unwrap_key(const KeyAccessObject& kao, const PrivateKey& kas_private_key) {
  return unwrap_raw(kao.wrapped_key, kas_private_key, "the key access object's wrapped key");
}

DataKey open_key_access(const Policy& policy, const KeyAccessObject& kao, const PrivateKey& kas_private_key) {
  DataKey key = unwrap_key(kao, kas_private_key);
  if (!verify_binding(policy, kao, key))
    throw BindingError("the policy binding does not match: the policy is not the one this key was bound to");
  return key;
}

std::string rewrap(const DataKey& key, const PublicKey& client_key) {
  return base64_encode(detail::rsa_oaep_wrap(client_key, key.bytes()));
}

DataKey unwrap_rewrapped(std::string_view wrapped_base64, const PrivateKey& client_private_key) {
  auto wrapped = base64_decode(wrapped_base64);
  if (!wrapped) throw UnwrapError("the rewrapped key is not base64");
  return unwrap_raw(*wrapped, client_private_key, "the rewrapped key");
}

}  // namespace dive::ztdf
