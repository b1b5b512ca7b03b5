#include "policy/bundle_holder.hpp"

#include "policy/bundle_loader.hpp"

namespace dive::policy {
namespace {

template <class Fn>
bool install(BundleHolder& holder, std::string* error, Fn&& parse) {
  try {
    return holder.replace(parse());
  } catch (const std::exception& e) {
    if (error) *error = e.what();
    return false;
  }
}

}  // namespace

std::string BundleHolder::revision() const {
  auto b = current();
  return b ? b->revision : std::string();
}

bool BundleHolder::replace(std::shared_ptr<const Bundle> next) {
  if (!next) return false;
  current_.store(std::move(next), std::memory_order_release);
  return true;
}

bool BundleHolder::replace(const Json& doc, std::string* error) {
  return install(*this, error, [&] { return parse_bundle(doc); });
}

bool BundleHolder::replace_text(std::string_view text, std::string* error) {
  return install(*this, error, [&] { return parse_bundle_text(text); });
}

bool BundleHolder::load_file(const std::filesystem::path& path, std::string* error) {
  return install(*this, error, [&] { return load_bundle_file(path); });
}

}  // namespace dive::policy
