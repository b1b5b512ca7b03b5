#include "identity/idp/own_token.hpp"

#include "identity/idp/key_ring.hpp"
#include "identity/jws.hpp"

namespace dive::identity::idp {

std::optional<OwnToken> verify_own_token(std::string_view token, const KeyRing& keys,
                                         const std::string& issuer, int64_t now_s, bool allow_expired) {
  if (token.size() > 16 * 1024) return std::nullopt;
  try {
    CompactJws jws = parse_compact(token);
    auto kid = jws.header.find("kid");
    if (kid == jws.header.end() || !kid->is_string()) return std::nullopt;
    auto key = keys.find(kid->get<std::string>());
    if (!key || !verify_signature(jws, *key)) return std::nullopt;
    Json claims = parse_jose_json(jws.payload, 16);
    if (!claims.is_object() || claims.value("iss", "") != issuer) return std::nullopt;
    auto exp = claims.find("exp");
    if (exp == claims.end() || !exp->is_number_integer()) return std::nullopt;
    OwnToken t{claims, exp->get<int64_t>()};
    if (!allow_expired && t.exp <= now_s) return std::nullopt;
    return t;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace dive::identity::idp
