#pragma once
// application/x-www-form-urlencoded bodies and queries as OAuth reads them (RFC 6749 §3.1: a parameter
// sent more than once is an error), HTTP Basic client credentials, and URL building for redirects.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/encoding.hpp"

namespace dive::identity::idp {

struct FormParams {
  std::map<std::string, std::string> values;
  std::string duplicate;  // the first parameter name sent twice ("" when none)

  // The value, or "" when absent (OAuth treats an empty value as absent, RFC 6749 §3.1).
  const std::string& get(const std::string& name) const;
  bool has(const std::string& name) const { return !get(name).empty(); }
};

// Parses "a=1&b=x%20y+z". At most `max_params` parameters are kept (the rest are ignored).
FormParams parse_form(std::string_view text, size_t max_params = 64);
// The query part of a request target ("/p?x=1" -> "x=1").
std::string_view query_of(std::string_view target);

// "Authorization: Basic base64(urlencode(id) ":" urlencode(secret))" (RFC 6749 §2.3.1).
std::optional<std::pair<std::string, std::string>> parse_basic_auth(std::string_view header);

// Query encoding lives in common/encoding.hpp; named here too for the idp's callers.
using dive::add_query;
using dive::url_encode;

}  // namespace dive::identity::idp
