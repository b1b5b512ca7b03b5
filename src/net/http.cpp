#include "net/http.hpp"

#include <cctype>
#include <cstring>
#include <random>

#include "common/random.hpp"
#include "common/strings.hpp"

namespace dive::net {

// ---- Headers ----

std::optional<std::string> Headers::get(std::string_view name) const {
  auto v = view(name);
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

std::optional<std::string_view> Headers::view(std::string_view name) const {
  for (const auto& [k, v] : fields_)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

void Headers::set(std::string name, std::string value) {
  remove(name);
  fields_.emplace_back(std::move(name), std::move(value));
}

void Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

bool Headers::has(std::string_view name) const {
  for (const auto& f : fields_)
    if (iequals(f.first, name)) return true;
  return false;
}

bool Headers::remove(std::string_view name) {
  auto before = fields_.size();
  std::erase_if(fields_, [&](const auto& f) { return iequals(f.first, name); });
  return fields_.size() != before;
}

// ---- Request / Response ----

std::optional<std::string> Request::bearer_token() const {
  auto v = bearer_token_view();
  return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
}

std::optional<std::string_view> Request::bearer_token_view() const {
  auto auth = headers.view("Authorization");
  if (!auth) return std::nullopt;
  std::string_view v = *auth;
  auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };  // as trim()
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  constexpr std::string_view kScheme = "bearer";
  if (v.size() <= kScheme.size() || !iequals(v.substr(0, kScheme.size()), kScheme)) return std::nullopt;
  if (v[kScheme.size()] != ' ' && v[kScheme.size()] != '\t') return std::nullopt;
  v.remove_prefix(kScheme.size() + 1);
  while (!v.empty() && blank(v.front())) v.remove_prefix(1);
  while (!v.empty() && blank(v.back())) v.remove_suffix(1);
  if (v.empty()) return std::nullopt;
  return v;
}

Response Response::json(int status, const Json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, Json::error_handler_t::replace);
  r.headers.add("Content-Type", "application/json");
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.add("Content-Type", std::move(content_type));
  return r;
}

Response Response::error(int status, std::string error, std::string message, const std::string& request_id) {
  Json j = Json::object();
  j["error"] = std::move(error);
  j["message"] = std::move(message);
  j["requestId"] = request_id;
  return json(status, j);
}

// ---- helpers ----

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string generate_request_id() {
  // Request ids are correlation handles, not secrets: a per-thread generator seeded from the OS is enough
  // and keeps the request path free of locks and system calls.
  thread_local std::mt19937_64 gen([] {
    auto seed = secure_random_bytes(8);
    uint64_t s = 0;
    std::memcpy(&s, seed.data(), sizeof s);
    return s;
  }());
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = gen();
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kHex[v & 0xf];
    v >>= 4;
  }
  return out;
}

std::string_view status_reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace dive::net
