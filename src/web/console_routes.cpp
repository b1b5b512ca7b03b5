#include "web/console_routes.hpp"
#include "net/router.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace dive::web {

void add_console_routes(net::Router& router, std::shared_ptr<const AssetTable> assets) {
  const Asset* index = assets->find("index.html");
  if (!index) throw std::invalid_argument("the web console has no index.html");
  // The handlers hold the table: its assets (and the index pointer into it) live as long as the router.
  router.add(
      "GET", "/",
      [assets, index](net::Request& req) {
        // The page is a shell; still, a signed-out browser's back button must not bring a stored copy back.
        net::Response r = asset_response(*index, req);
        r.headers.set("Cache-Control", "no-store");
        return r;
      },
      net::Exec::Inline);
  add_asset_routes(router, std::move(assets));
}

void add_asset_routes(net::Router& router, std::shared_ptr<const AssetTable> assets,
                      std::vector<std::string> only) {
  router.add(
      "GET", "/assets/{name}",
      [assets, only = std::move(only)](net::Request& req) {
        const std::string& name = req.params.at("name");
        const bool listed = only.empty() || std::find(only.begin(), only.end(), name) != only.end();
        if (const Asset* a = listed ? assets->find(name) : nullptr) return asset_response(*a, req);
        return net::Response::error(404, "not_found", "no asset named '" + name.substr(0, 100) + "'",
                                    req.request_id);
      },
      net::Exec::Inline);
}

}  // namespace dive::web
