#pragma once
// One revocation as it travels between instances (docs/REVOCATION.md): the key it sets in the shared
// blacklist Redis and the message published on the matching channel.
//
//   token  blacklist:<jti>          value: the event JSON, expires at the token's exp
//          channel dive-v3:token-blacklist
//   user   user-revoked:<uniqueID>  value: the revocation threshold in ms (the largest one wins), expires
//          when every token issued before it has expired; channel dive-v3:user-revoked
//
// Message: {"type":"token","jti":..,"exp":<s>,"revokedAt":<ms>,"instance":"USA"} or
//          {"type":"user","uniqueID":..,"at":<ms>,"revokedAt":<ms>,"instance":"USA"}
// revokedAt is the wall-clock time of the revocation, so a receiver can measure the propagation delay.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/json.hpp"

namespace dive::identity {

inline constexpr std::string_view kTokenChannel = "dive-v3:token-blacklist";
inline constexpr std::string_view kUserChannel = "dive-v3:user-revoked";
inline constexpr std::string_view kTokenKeyPrefix = "blacklist:";
inline constexpr std::string_view kUserKeyPrefix = "user-revoked:";

struct RevocationEvent {
  enum class Kind { Token, User };
  Kind kind = Kind::Token;
  std::string id;             // jti (token) or uniqueID (user)
  int64_t value = 0;          // token: exp in seconds; user: threshold in ms (tokens issued before it)
  int64_t revoked_at_ms = 0;  // when the revocation was made (0: unknown)
  std::string instance;       // the instance that made it ("" when unknown)

  static RevocationEvent token(std::string jti, int64_t exp_s, int64_t revoked_at_ms, std::string instance) {
    return {Kind::Token, std::move(jti), exp_s, revoked_at_ms, std::move(instance)};
  }
  static RevocationEvent user(std::string unique_id, int64_t at_ms, int64_t revoked_at_ms,
                              std::string instance) {
    return {Kind::User, std::move(unique_id), at_ms, revoked_at_ms, std::move(instance)};
  }

  std::string key() const;           // blacklist:<jti> / user-revoked:<uniqueID>
  std::string_view channel() const;  // the pub/sub channel of its kind
  Json to_json() const;              // the message (see above)
  static std::optional<RevocationEvent> from_json(const Json& j);      // nullopt when not a valid message
  static std::optional<RevocationEvent> parse(std::string_view text);  // from_json of the text
  bool operator==(const RevocationEvent&) const = default;
};

std::string_view to_string(RevocationEvent::Kind k);  // "token" / "user"

}  // namespace dive::identity
