#include "policy/bundle_loader.hpp"

#include "common/fs.hpp"

namespace dive::policy {

std::shared_ptr<const Bundle> load_bundle_file(const std::filesystem::path& path) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const std::exception& e) {
    throw BundleError(std::string("cannot read policy bundle: ") + e.what());
  }
  try {
    return parse_bundle_text(text);
  } catch (const BundleError& e) {
    throw BundleError(path.string() + ": " + e.what());
  }
}

}  // namespace dive::policy
