#pragma once
// Where bundles come from. Parsing lives in bundle.hpp (from a Json value or text), so that the
// service can also feed bundles read from its database.
#include <filesystem>
#include <memory>

#include "policy/bundle.hpp"

namespace dive::policy {

// Reads and parses a bundle file; throws BundleError naming the file and the problem.
std::shared_ptr<const Bundle> load_bundle_file(const std::filesystem::path& path);

}  // namespace dive::policy
