#include "identity/idp/idp_config.hpp"

#include <stdexcept>

#include "common/encoding.hpp"
#include "common/strings.hpp"
#include "identity/revocation_limits.hpp"
#include "identity/token_validator.hpp"

namespace dive::identity::idp {

std::string decode_kek(const std::string& text) {
  auto raw = base64url_decode(text);
  if (!raw) raw = base64_decode(text);
  if (!raw || raw->size() != 32)
    throw std::runtime_error("idp_key_encryption_key must be 32 bytes, base64url encoded");
  return *raw;
}

namespace {
std::string required(const Json& j, const char* key, const char* file) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty())
    throw std::runtime_error(std::string(file) + " has no '" + key + "'");
  return it->get<std::string>();
}

template <class T>
T positive(const Json& j, const char* key, T def) {
  auto it = j.find(key);
  if (it == j.end()) return def;
  if (!it->is_number_integer() || it->get<int64_t>() <= 0)
    throw std::runtime_error(std::string("instance.json idp.") + key + " must be a positive integer");
  return static_cast<T>(it->get<int64_t>());
}
}  // namespace

IdpConfig IdpConfig::from_instance(const Json& instance, const Json& secrets) {
  IdpConfig c;
  c.code = to_upper(required(instance, "code", "instance.json"));
  c.realm = required(instance, "realm", "instance.json");
  c.issuer = required(instance, "issuer", "instance.json");
  const Json urls = instance.value("urls", Json::object());
  c.base_url = urls.value("idp", "");
  c.api_url = urls.value("api", "");
  if (c.base_url.empty() || c.api_url.empty())
    throw std::runtime_error("instance.json has no urls.idp/urls.api");
  if (std::string web = urls.value("web", ""); !web.empty()) c.console_urls.push_back(web);
  if (instance.contains("hub") && instance["hub"].is_object() && instance.value("role", "") != "hub")
    if (std::string hub_web = instance["hub"].value("web_url", ""); !hub_web.empty())
      c.console_urls.push_back(hub_web);
  c.instance_name = instance.value("name", c.code);
  c.data_dir = instance.value("data_dir", "");
  c.is_hub = instance.value("role", "") == "hub";

  const Json idp = instance.value("idp", Json::object());
  c.access_token_ttl_s = positive<int64_t>(idp, "access_token_ttl_s", c.access_token_ttl_s);
  c.refresh_token_ttl_s = positive<int64_t>(idp, "refresh_token_ttl_s", c.refresh_token_ttl_s);
  c.session_max_s = positive<int64_t>(idp, "session_max_s", c.session_max_s);
  c.code_ttl_s = positive<int64_t>(idp, "code_ttl_s", c.code_ttl_s);
  c.lockout_threshold = positive<int>(idp, "lockout_threshold", c.lockout_threshold);
  c.lockout_minutes = positive<int64_t>(idp, "lockout_minutes", c.lockout_minutes);
  c.key_poll_ms = positive<int64_t>(idp, "key_poll_interval_ms", c.key_poll_ms);
  c.throttle = ThrottleConfig::from_json(idp.value("throttle", Json::object()));
  const auto covered = max_covered_lifetime(user_retention_of(instance), ValidatorConfig{}.clock_skew);
  if (c.access_token_ttl_s > covered.count())
    throw std::runtime_error(
        "instance.json idp.access_token_ttl_s (" + std::to_string(c.access_token_ttl_s) +
        " s) is longer than a logout is remembered: revocation.user_retention_s must be at "
        "least the token lifetime + " +
        std::to_string(ValidatorConfig{}.clock_skew.count()) +
        " s, or the token would be accepted again after its user's logout expires");
  const Json a = idp.value("argon2", Json::object());
  c.argon2.memory_kib = positive<uint32_t>(a, "memory_kib", c.argon2.memory_kib);
  c.argon2.iterations = positive<uint32_t>(a, "iterations", c.argon2.iterations);
  c.argon2.parallelism = positive<uint32_t>(a, "parallelism", c.argon2.parallelism);
  if (!c.argon2.meets_minimum())
    throw std::runtime_error("instance.json idp.argon2 is below OWASP's minimum (m=19456 KiB, t=2, p=1)");

  c.kek = decode_kek(required(secrets, "idp_key_encryption_key", "secrets.json"));
  c.test_user_password = required(secrets, "test_user_password", "secrets.json");
  c.admin_password = required(secrets, "admin_password", "secrets.json");
  const Json clients = secrets.value("clients", Json::object());
  for (const char* id : {"dive-api", "dive-kas"}) {
    const Json entry = clients.value(id, Json::object());
    c.client_secrets[id] = required(entry, "secret", "secrets.json clients");
  }
  return c;
}

}  // namespace dive::identity::idp
