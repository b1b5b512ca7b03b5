#pragma once
// The console's static files by name, each with its Content-Type and ETag, and the HTTP answer for one
// (conditional GET with If-None-Match -> 304).
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.hpp"
#include "web/embedded_files.hpp"

namespace dive::web {

struct Asset {
  std::string name;
  std::string content_type;
  std::string etag;  // strong: "\"<first 32 hex digits of the SHA-256 of the bytes>\""
  std::string_view body;
};

// The Content-Type for a file name by its extension (case-insensitive); application/octet-stream when the
// extension is unknown.
std::string content_type_for(std::string_view name);

// Whether an If-None-Match field value (a list of entity tags, weak ones included, or "*") matches `etag`.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

class AssetTable {
 public:
  // The files must outlive the table (embedded ones are static). Throws std::invalid_argument on a
  // duplicate name.
  explicit AssetTable(const std::vector<EmbeddedFile>& files);
  // The files compiled into this binary (web/ of the repository).
  static std::shared_ptr<const AssetTable> builtin();

  const Asset* find(std::string_view name) const;  // nullptr when there is no such asset
  std::vector<std::string> names() const;          // sorted

 private:
  std::map<std::string, Asset, std::less<>> by_name_;
};

// The answer to a GET or HEAD of `asset`: 200 with the body, Content-Type, ETag and Cache-Control, or 304
// (ETag and Cache-Control, no body) when the request's If-None-Match matches. Cache-Control is "no-cache":
// the names are not versioned, so a browser revalidates (a cheap 304) and never runs a stale app.js.
net::Response asset_response(const Asset& asset, const net::Request& req);

}  // namespace dive::web
