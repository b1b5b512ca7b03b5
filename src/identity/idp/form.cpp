#include "identity/idp/form.hpp"

#include "common/encoding.hpp"
#include "common/strings.hpp"
#include "net/http.hpp"
#include "net/url.hpp"

namespace dive::identity::idp {

const std::string& FormParams::get(const std::string& name) const {
  static const std::string kEmpty;
  auto it = values.find(name);
  return it == values.end() ? kEmpty : it->second;
}

FormParams parse_form(std::string_view text, size_t max_params) {
  FormParams out;
  size_t start = 0, count = 0;
  while (start <= text.size() && count < max_params) {
    size_t amp = text.find('&', start);
    if (amp == std::string_view::npos) amp = text.size();
    std::string_view part = text.substr(start, amp - start);
    start = amp + 1;
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string key = net::percent_decode(part.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : net::percent_decode(part.substr(eq + 1), true);
    if (key.empty()) continue;
    ++count;
    auto [it, inserted] = out.values.emplace(std::move(key), std::move(value));
    if (!inserted && out.duplicate.empty()) out.duplicate = it->first;
  }
  return out;
}

std::string_view query_of(std::string_view target) {
  size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  size_t hash = rest.find('#');
  return hash == std::string_view::npos ? rest : rest.substr(0, hash);
}

std::optional<std::pair<std::string, std::string>> parse_basic_auth(std::string_view header) {
  std::string h = trim(header);
  constexpr std::string_view kScheme = "basic ";
  if (h.size() <= kScheme.size() || !iequals(std::string_view(h).substr(0, kScheme.size()), kScheme))
    return std::nullopt;
  auto decoded = base64_decode(trim(std::string_view(h).substr(kScheme.size())));
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  // RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
  return std::make_pair(net::percent_decode(decoded->substr(0, colon), true),
                        net::percent_decode(decoded->substr(colon + 1), true));
}

}  // namespace dive::identity::idp
