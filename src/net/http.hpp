#pragma once
// Plain HTTP types shared by the server, the router, the client and every service's handlers.
// No Boost here: this header is included all over the code base and must compile fast.
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.hpp"

namespace dive::net {

// HTTP header fields: names compare case-insensitively, insertion order is kept.
class Headers {
 public:
  std::optional<std::string> get(std::string_view name) const;  // the first field with this name
  // The same without a copy: a view of the stored value, valid until these headers change.
  std::optional<std::string_view> view(std::string_view name) const;
  void set(std::string name, std::string value);  // replaces all fields with this name
  void add(std::string name, std::string value);
  bool has(std::string_view name) const;
  bool remove(std::string_view name);  // removes all fields with this name; true when any was removed
  const std::vector<std::pair<std::string, std::string>>& all() const { return fields_; }
  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  void clear() { fields_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

struct Request {
  std::string method;                         // "GET", "POST", ...
  std::string target;                         // raw "/a/b?x=1"
  std::string path;                           // "/a/b" (no query; percent-decoded)
  std::map<std::string, std::string> query;   // decoded query parameters (last one wins)
  std::map<std::string, std::string> params;  // from the route pattern, e.g. {id}
  Headers headers;
  std::string body;
  std::string request_id;  // from a valid X-Request-Id header, else generated
  std::string remote_ip;
  std::string route;  // the matched pattern, e.g. "/api/resources/{id}"

  // The token of "Authorization: Bearer <t>" (scheme case-insensitive); nullopt when absent or empty.
  std::optional<std::string> bearer_token() const;
  // The same as a view into the header (no copy of a ~1.3 KB token per request), valid while the request
  // is not modified.
  std::optional<std::string_view> bearer_token_view() const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  static Response json(int status, const Json& body);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // {"error": error, "message": message, "requestId": request_id}
  static Response error(int status, std::string error, std::string message, const std::string& request_id);
};

using Handler = std::function<Response(Request&)>;

// Helpers shared by the server, the client and tests.
bool valid_request_id(std::string_view id);  // [A-Za-z0-9._-]{1,64}
std::string generate_request_id();           // 16 random hex chars
std::string_view status_reason(int status);  // "Not Found"

}  // namespace dive::net
