#include "identity/jws.hpp"

#include <vector>

#include "common/encoding.hpp"

namespace dive::identity {

namespace {

constexpr int kMaxHeaderDepth = 8;

std::string encode_header(const Json& header_extra, const SigningKey& key) {
  Json header = Json::object();
  if (!header_extra.is_null()) {
    if (!header_extra.is_object()) throw std::invalid_argument("JWS header_extra must be a JSON object");
    header = header_extra;
  }
  header["alg"] = std::string(to_string(key.alg()));
  header["kid"] = key.kid();
  if (!header.contains("typ")) header["typ"] = "JWT";
  return base64url_encode(header.dump());
}

}  // namespace

std::string sign(const Json& header_extra, std::string_view payload, const SigningKey& key) {
  std::string token = encode_header(header_extra, key);
  token += '.';
  token += base64url_encode(payload);
  std::string sig = key.sign(token);
  token += '.';
  token += base64url_encode(sig);
  return token;
}

std::string sign_claims(const Json& claims, const SigningKey& key, const Json& header_extra) {
  return sign(header_extra, claims.dump(), key);
}

Json parse_jose_json(std::string_view text, int max_depth) {
  if (text.find('\0') != std::string_view::npos) throw std::invalid_argument("JSON holds a NUL byte");
  // The member names seen so far in each open object (a stack, innermost last). Objects in JOSE are
  // small, so a linear scan beats a set.
  std::vector<std::vector<std::string>> open;
  bool duplicate = false, too_deep = false;
  Json::parser_callback_t cb = [&](int depth, Json::parse_event_t ev, Json& parsed) {
    switch (ev) {
      case Json::parse_event_t::object_start:
        open.emplace_back();
        [[fallthrough]];
      case Json::parse_event_t::array_start:
        if (depth + 1 > max_depth) too_deep = true;
        break;
      case Json::parse_event_t::object_end:
        if (!open.empty()) open.pop_back();
        break;
      case Json::parse_event_t::key: {
        auto& names = open.back();
        const auto& name = parsed.get_ref<const std::string&>();
        for (const auto& n : names)
          if (n == name) duplicate = true;
        names.push_back(name);
        break;
      }
      default:
        break;
    }
    return !(duplicate || too_deep);
  };
  Json j;
  try {
    j = Json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const Json::exception&) {
    if (!duplicate && !too_deep) throw std::invalid_argument("malformed JSON");
  }
  if (duplicate) throw std::invalid_argument("JSON object with a duplicate member name");
  if (too_deep) throw std::invalid_argument("JSON nests too deep");
  return j;
}

CompactJws parse_compact(std::string_view token) {
  size_t d1 = token.find('.');
  if (d1 == std::string_view::npos) throw JwsFormatError("not a compact JWS (no '.')");
  size_t d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos) throw JwsFormatError("not a compact JWS (2 parts, 3 expected)");
  if (token.find('.', d2 + 1) != std::string_view::npos)
    throw JwsFormatError(
        "not a compact JWS (more than 3 parts; JWE and JSON serialisations are not accepted)");
  std::string_view h = token.substr(0, d1), p = token.substr(d1 + 1, d2 - d1 - 1), s = token.substr(d2 + 1);
  if (h.empty() || p.empty()) throw JwsFormatError("JWS with an empty header or payload");
  auto header = base64url_decode(h);
  if (!header) throw JwsFormatError("JWS header is not base64url");
  auto payload = base64url_decode(p);
  if (!payload) throw JwsFormatError("JWS payload is not base64url");
  auto sig = base64url_decode(s);
  if (!sig) throw JwsFormatError("JWS signature is not base64url");
  CompactJws out;
  try {
    out.header = parse_jose_json(*header, kMaxHeaderDepth);
  } catch (const std::invalid_argument& e) {
    throw JwsFormatError(std::string("JWS header: ") + e.what());
  }
  if (!out.header.is_object()) throw JwsFormatError("JWS header is not a JSON object");
  out.payload = std::move(*payload);
  out.signature = std::move(*sig);
  out.signing_input = token.substr(0, d2);
  return out;
}

bool verify_signature(const CompactJws& jws, const VerifyKey& key) {
  auto it = jws.header.find("alg");
  if (it == jws.header.end() || !it->is_string()) return false;
  auto alg = parse_alg(it->get_ref<const std::string&>());
  if (!alg || !key.allows(*alg)) return false;
  return key.verify(*alg, jws.signing_input, jws.signature);
}

}  // namespace dive::identity
