#pragma once
// The web console's static files as compiled into the binary (cmake/EmbedWebAssets.cmake, from web/ at the
// repository root). The generated source defines embedded_files().
#include <cstddef>
#include <string_view>
#include <vector>

namespace dive::web {

struct EmbeddedFile {
  std::string_view name;  // "index.html", "app.js", ...: a flat name, no folders
  std::string_view data;  // the file's bytes, static storage
};

// In the order of their names.
const std::vector<EmbeddedFile>& embedded_files();

}  // namespace dive::web
