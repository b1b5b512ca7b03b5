#include "web/assets.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/encoding.hpp"
#include "common/strings.hpp"

namespace dive::web {

namespace {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string content_type_for(std::string_view name) {
  const auto dot = name.rfind('.');
  const std::string ext = dot == std::string_view::npos ? "" : to_lower(std::string(name.substr(dot + 1)));
  static const std::map<std::string, std::string, std::less<>> types{
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"webmanifest", "application/manifest+json"},
      {"txt", "text/plain; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"ico", "image/vnd.microsoft.icon"},
      {"woff2", "font/woff2"},
  };
  auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  // RFC 9110 13.1.2: weak comparison; "*" matches any current representation.
  auto strip_weak = [](std::string_view t) { return t.substr(0, 2) == "W/" ? t.substr(2) : t; };
  const std::string_view want = strip_weak(etag);
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    const std::string_view item = trim_ows(if_none_match.substr(0, comma));
    if (item == "*" || (!item.empty() && strip_weak(item) == want)) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

AssetTable::AssetTable(const std::vector<EmbeddedFile>& files) {
  for (const auto& f : files) {
    Asset a{std::string(f.name), content_type_for(f.name), "\"" + sha256_hex(f.data).substr(0, 32) + "\"",
            f.data};
    if (!by_name_.emplace(a.name, a).second)
      throw std::invalid_argument("two web assets are named " + a.name);
  }
}

std::shared_ptr<const AssetTable> AssetTable::builtin() {
  static const auto table = std::make_shared<const AssetTable>(embedded_files());
  return table;
}

const Asset* AssetTable::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

std::vector<std::string> AssetTable::names() const {
  std::vector<std::string> out;
  out.reserve(by_name_.size());
  for (const auto& [name, asset] : by_name_) out.push_back(name);
  return out;
}

net::Response asset_response(const Asset& asset, const net::Request& req) {
  net::Response r;
  r.headers.set("ETag", asset.etag);
  r.headers.set("Cache-Control", "no-cache");
  if (auto inm = req.headers.view("If-None-Match"); inm && etag_matches(*inm, asset.etag)) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  r.headers.set("Content-Type", asset.content_type);
  r.body = std::string(asset.body);
  return r;
}

}  // namespace dive::web
