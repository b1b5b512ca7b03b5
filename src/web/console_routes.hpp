#pragma once
// The console's routes on a router: GET / (index.html) and GET /assets/<name> (any other file of the
// table; unknown -> 404). HEAD is answered by the GET routes; any other method gets 405 from the router.
#include <memory>
#include <string>
#include <vector>

#include "net/http.hpp"
#include "net/router.hpp"
#include "web/assets.hpp"

namespace dive::web {

// Throws std::invalid_argument when the table has no index.html.
void add_console_routes(net::Router& router, std::shared_ptr<const AssetTable> assets);
// GET /assets/<name> alone, for the files named in `only` (all when empty): the idp serves the console's
// stylesheet to its sign-in pages this way.
void add_asset_routes(net::Router& router, std::shared_ptr<const AssetTable> assets,
                      std::vector<std::string> only = {});

}  // namespace dive::web
