#include "identity/revocation_event.hpp"

namespace dive::identity {

std::string_view to_string(RevocationEvent::Kind k) {
  return k == RevocationEvent::Kind::Token ? "token" : "user";
}

std::string RevocationEvent::key() const {
  return std::string(kind == Kind::Token ? kTokenKeyPrefix : kUserKeyPrefix) + id;
}

std::string_view RevocationEvent::channel() const {
  return kind == Kind::Token ? kTokenChannel : kUserChannel;
}

Json RevocationEvent::to_json() const {
  Json j{{"type", to_string(kind)}, {"revokedAt", revoked_at_ms}, {"instance", instance}};
  if (kind == Kind::Token) {
    j["jti"] = id;
    j["exp"] = value;
  } else {
    j["uniqueID"] = id;
    j["at"] = value;
  }
  return j;
}

std::optional<RevocationEvent> RevocationEvent::from_json(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  auto str = [&](const char* k) -> std::optional<std::string> {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) return std::nullopt;
    return it->get<std::string>();
  };
  auto num = [&](const char* k) -> std::optional<int64_t> {
    auto it = j.find(k);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  auto type = str("type");
  if (!type) return std::nullopt;
  RevocationEvent e;
  e.revoked_at_ms = num("revokedAt").value_or(0);
  e.instance = str("instance").value_or("");
  std::optional<std::string> id;
  std::optional<int64_t> value;
  if (*type == "token") {
    e.kind = Kind::Token;
    id = str("jti");
    value = num("exp");
  } else if (*type == "user") {
    e.kind = Kind::User;
    id = str("uniqueID");
    value = num("at");
  } else {
    return std::nullopt;
  }
  if (!id || !value) return std::nullopt;
  e.id = std::move(*id);
  e.value = *value;
  return e;
}

std::optional<RevocationEvent> RevocationEvent::parse(std::string_view text) {
  try {
    return from_json(parse_json_limited(text, 8));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace dive::identity
