#pragma once
// URLs and their parts (src/net/url.cpp): parsing an http(s) URL, percent-decoding, query strings.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "net/transport_error.hpp"

namespace dive::net {

// A parsed http(s) URL (exposed for tests and callers that build URLs).
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6
  uint16_t port = 0;
  std::string target;  // path and query, at least "/"
};
Url parse_url(std::string_view url);  // throws TransportError(BadUrl)

// Percent-decoding of a path segment or query part ("+" as a space in a query).
std::string percent_decode(std::string_view s, bool plus_as_space = false);
std::map<std::string, std::string> parse_query(std::string_view query);  // "a=1&b=x%20y"

}  // namespace dive::net
