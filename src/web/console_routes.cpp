#include "web/console_routes.hpp"

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
  router.add(
      "GET", "/assets/{name}",
      [assets](net::Request& req) {
        const std::string& name = req.params.at("name");
        if (const Asset* a = assets->find(name)) return asset_response(*a, req);
        return net::Response::error(404, "not_found", "no asset named '" + name.substr(0, 100) + "'",
                                    req.request_id);
      },
      net::Exec::Inline);
}

}  // namespace dive::web
